"""Scene structure rules, pure and synchronous: nesting depth, cycles, cascades and dense sibling orders.

A project's scenes form a forest through ``parent_scene_id``. A child with ``is_alternate: false`` is a
sub-scene; a child with ``is_alternate: true`` is an alternate timeline of its parent. Depth counts main scenes
only: a top-level scene has depth 1 and no scene may sit deeper than :data:`MAX_DEPTH`. Among the main scenes of
one (project, parent) the ``order`` values are dense, 0..n-1; an alternate's ``order`` is not part of it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from mcp_storyboard.errors import InvalidStateError, ValidationError
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.common import new_id, utc_now
from mcp_storyboard.models.scenes import Scene

MAX_DEPTH = 5
"""The deepest a main scene may be nested: a top-level scene is depth 1."""
_HINT_LIMIT = 10


def sibling_sort_key(scene: Scene) -> tuple[int, str]:
    """The order siblings are shown in: ``order``, then ``id`` to break ties left by concurrent writers."""
    return scene.order, scene.id


def describe(scenes: Iterable[Scene], *, limit: int = _HINT_LIMIT) -> str:
    """``Intro (id1), Verse (id2), … and 3 more`` — candidates for an error hint; ``none`` when empty."""
    listed = list(scenes)
    shown = ", ".join(f"{s.name} ({s.id})" for s in listed[:limit])
    more = len(listed) - limit
    return (shown + (f" and {more} more" if more > 0 else "")) or "none"


class SceneForest:
    """The scenes of one project, indexed by id and by parent (built from one query)."""

    def __init__(self, scenes: Iterable[Scene]) -> None:
        self.by_id: dict[str, Scene] = {}
        self._children: dict[str | None, list[Scene]] = defaultdict(list)
        for scene in scenes:
            self.by_id[scene.id] = scene
            self._children[scene.parent_scene_id].append(scene)

    def main_children(self, parent_id: str | None) -> list[Scene]:
        """Main scenes directly under ``parent_id`` (None: top level), in sibling order."""
        return sorted((s for s in self._children.get(parent_id, []) if not s.is_alternate), key=sibling_sort_key)

    def alternates(self, scene_id: str) -> list[Scene]:
        """Alternates of a scene, by number."""
        alts = [s for s in self._children.get(scene_id, []) if s.is_alternate]
        return sorted(alts, key=lambda s: (s.alternate_number or 0, s.id))

    def main_scenes(self) -> list[Scene]:
        return [s for s in self.by_id.values() if not s.is_alternate]

    def depth(self, scene_id: str) -> int:
        """1 for a top-level scene, +1 per main ancestor."""
        depth, seen = 1, {scene_id}
        parent = self.by_id[scene_id].parent_scene_id
        while parent is not None and parent in self.by_id and parent not in seen:
            seen.add(parent)
            depth += 1
            parent = self.by_id[parent].parent_scene_id
        return depth

    def height(self, scene_id: str) -> int:
        """Levels of main scenes from ``scene_id`` down to its deepest sub-scene (1 for a leaf)."""
        tallest, frontier, seen = 0, [scene_id], {scene_id}
        while frontier:
            tallest += 1
            frontier = [c.id for f in frontier for c in self.main_children(f) if c.id not in seen]
            seen.update(frontier)
        return tallest

    def subtree(self, scene_id: str) -> list[str]:
        """``scene_id`` and every scene under it (sub-scenes and alternates, recursively), parents first."""
        found, frontier = [scene_id], [scene_id]
        seen = {scene_id}
        while frontier:
            nxt = [c.id for f in frontier for c in self._children.get(f, []) if c.id not in seen]
            seen.update(nxt)
            found.extend(nxt)
            frontier = nxt
        return found


def check_parent(forest: SceneForest, parent_id: str, *, project_id: str, moving: str | None = None) -> Scene:
    """The scene ``parent_id`` if a (new or ``moving``) scene may sit under it.

    Raises:
        InvalidStateError: code ``invalid-parent`` — the parent is not a scene of this project, is an alternate,
            is the moving scene or one of its descendants (a cycle), or would nest deeper than ``MAX_DEPTH``.
            The hint lists valid candidates.
    """
    parent = forest.by_id.get(parent_id)
    below = set(forest.subtree(moving)) if moving is not None else set()
    height = forest.height(moving) if moving is not None else 1

    def valid() -> list[Scene]:
        return [s for s in forest.main_scenes() if s.id not in below and forest.depth(s.id) + height <= MAX_DEPTH]

    def refuse(why: str) -> InvalidStateError:
        return InvalidStateError(
            f"parent_scene_id '{parent_id}' {why}",
            hint=f"valid parents in project {project_id}: {describe(valid())}; "
            + ("or top_level: true" if moving is not None else "or omit it for the top level"),
            code="invalid-parent",
        )

    if parent is None:
        raise refuse(f"is not a scene of project {project_id}")
    if parent.is_alternate:
        raise refuse(f"is an alternate of scene {parent.parent_scene_id}; only main scenes hold sub-scenes")
    if parent.id in below:
        what = "the scene itself" if parent.id == moving else f"inside scene {moving}"
        raise refuse(f"is {what}: moving a scene under its own descendant would make a cycle")
    depth = forest.depth(parent.id) + height
    if depth > MAX_DEPTH:
        raise refuse(f"is at depth {forest.depth(parent.id)}: the scene would reach depth {depth}, over the limit "
                     f"of {MAX_DEPTH}")
    return parent


def check_position(position: int | None, count: int) -> int:
    """The index a scene goes to among ``count`` other siblings: ``position``, or the end when None.

    Raises:
        ValidationError: ``position`` is outside 0..count.
    """
    if position is None:
        return count
    if not 0 <= position <= count:
        raise ValidationError("position", f"{position} is out of range", hint=f"allowed values: 0..{count} "
                              f"({count} puts it last); omit it to append")
    return position


def check_full_list(requested: Sequence[str], current: Sequence[Scene], *, where: str) -> None:
    """``requested`` must be exactly the ids of ``current``, each once.

    Raises:
        ValidationError: on ``scene_ids``, naming missing, extra and repeated ids and the current order.
    """
    current_ids = [s.id for s in current]
    counts, known = Counter(requested), set(current_ids)
    repeated = [i for i, n in counts.items() if n > 1]
    missing = [i for i in current_ids if i not in counts]
    extra = [i for i in counts if i not in known]
    problems = [f"{label}: {', '.join(ids)}" for label, ids in
                (("missing", missing), ("not main scenes of " + where, extra), ("repeated", repeated)) if ids]
    if problems:
        raise ValidationError(
            "scene_ids",
            f"must list each of the {len(current_ids)} main scenes of {where} exactly once; " + "; ".join(problems),
            hint="the current order is: " + (", ".join(current_ids) or "(no scenes)"),
        )


def dense_orders(ordered: Sequence[Scene]) -> list[tuple[str, int]]:
    """``(id, index)`` for each scene of ``ordered`` whose ``order`` is not already its index."""
    return [(s.id, i) for i, s in enumerate(ordered) if s.order != i]


def copy_main_clips(clips: Sequence[Clip], scene_id: str) -> list[Clip]:
    """Copies of the main clips (clip alternates left out) of ``clips`` for ``scene_id``, in their display order
    and numbered 0..n-1 (keeping the originals' orders would leave the skipped alternates' places as gaps)."""
    main = sorted((c for c in clips if c.alternate_of is None), key=lambda c: (c.order, c.id))
    return [copy_clip(c, scene_id).model_copy(update={"order": n}) for n, c in enumerate(main)]


def copy_clip(clip: Clip, scene_id: str) -> Clip:
    """A copy of ``clip`` as a main clip of ``scene_id``: new id, same order, timing, text and links; an empty
    gallery, no selection and no alternate link."""
    now = utc_now()
    return clip.model_copy(update={
        "id": new_id(), "scene_id": scene_id, "created_at": now, "updated_at": now,
        "generated_images": [], "generated_videos": [], "selected_image_id": None, "selected_video_id": None,
        "alternate_of": None, "alternate_number": None,
    })
