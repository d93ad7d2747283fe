"""Timeline rules, pure and synchronous: overlaps, free-slot suggestions, gaps, and scene offsets.

A clip occupies [timeline_position, timeline_position + duration) on its scene's timeline. Only a scene's
main clips collide; an alternate shares its original's slot. Times are compared in whole centiseconds so
float noise never invents an overlap or a gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from mcp_storyboard.models.clips import TIMELINE_MAX_SECONDS

GAP_THRESHOLD_SECONDS = 0.1
DEFAULT_CLIP_DURATION = 5.0


def _cs(seconds: float) -> int:
    return round(seconds * 100)


@dataclass(frozen=True)
class Slot:
    """A clip's place on its scene's timeline."""

    clip_id: str
    start: float
    duration: float
    name: str = ""

    @property
    def end(self) -> float:
        return round(self.start + self.duration, 2)


@dataclass(frozen=True)
class Overlap:
    first_id: str
    second_id: str
    first_name: str
    second_name: str
    seconds: float
    """How long the two clips overlap."""


@dataclass(frozen=True)
class Gap:
    after_id: str | None
    """The clip before the gap; None for a gap at the start of the scene."""
    before_id: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return round(self.end - self.start, 2)


def collisions(candidate: Slot, others: Iterable[Slot]) -> list[Slot]:
    """The slots of ``others`` (the candidate's own id excluded) that overlap ``candidate``, by start."""
    start, end = _cs(candidate.start), _cs(candidate.start + candidate.duration)
    hits = [s for s in others if s.clip_id != candidate.clip_id and _cs(s.start) < end and _cs(s.start + s.duration) > start]
    return sorted(hits, key=lambda s: (s.start, s.clip_id))


def suggest_position(duration: float, requested: float, others: Iterable[Slot], *, exclude_id: str | None = None) -> float | None:
    """The earliest start at or after ``requested`` where a clip of ``duration`` fits with no overlap.

    Walks the other clips by start and jumps to the end of each one in the way; None when nothing fits
    before the end of the timeline (10,000 s).
    """
    position = _cs(requested)
    length = _cs(duration)
    for slot in sorted((s for s in others if s.clip_id != exclude_id), key=lambda s: s.start):
        s_start, s_end = _cs(slot.start), _cs(slot.start + slot.duration)
        if s_start < position + length and s_end > position:
            position = s_end
    if position + length > _cs(TIMELINE_MAX_SECONDS):
        return None
    return position / 100


def find_overlaps(slots: Sequence[Slot]) -> list[Overlap]:
    """Every overlapping pair, found with one sweep over the slots sorted by start (not O(n²) for sparse ones)."""
    ordered = sorted(slots, key=lambda s: (s.start, s.clip_id))
    found: list[Overlap] = []
    active: list[Slot] = []
    for slot in ordered:
        active = [a for a in active if _cs(a.start + a.duration) > _cs(slot.start)]
        for earlier in active:
            seconds = (min(_cs(earlier.start + earlier.duration), _cs(slot.start + slot.duration)) - _cs(slot.start)) / 100
            found.append(Overlap(earlier.clip_id, slot.clip_id, earlier.name, slot.name, seconds))
        active.append(slot)
    return found


def find_gaps(slots: Sequence[Slot], *, threshold: float = GAP_THRESHOLD_SECONDS) -> list[Gap]:
    """Stretches longer than ``threshold`` that no clip covers, from 0 to the last clip's end."""
    gaps: list[Gap] = []
    covered_until = 0
    previous: str | None = None
    for slot in sorted(slots, key=lambda s: (s.start, s.clip_id)):
        start = _cs(slot.start)
        if start - covered_until > _cs(threshold):
            gaps.append(Gap(previous, slot.clip_id, covered_until / 100, start / 100))
        end = _cs(slot.start + slot.duration)
        if end >= covered_until:
            covered_until, previous = end, slot.clip_id
    return gaps


def timeline_end(slots: Iterable[Slot]) -> float:
    """Where the last clip ends (0 for an empty timeline): the scene's length on the project timeline."""
    return max((_cs(s.start + s.duration) for s in slots), default=0) / 100


def scene_offsets(ordered_scene_lengths: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Each main scene's start on the project timeline: the sum of the lengths of the scenes before it."""
    offsets: dict[str, float] = {}
    total = 0
    for scene_id, length in ordered_scene_lengths:
        offsets[scene_id] = total / 100
        total += _cs(length)
    return offsets


@dataclass(frozen=True)
class SceneNode:
    """A scene's place in its project's tree, for ordering the project timeline."""

    scene_id: str
    parent_id: str | None
    is_alternate: bool
    order: int


def timeline_sequence(nodes: Sequence[SceneNode], *, root: str | None = None) -> list[tuple[str, int]]:
    """The scenes of the main timeline under ``root`` (None: the project) in play order, with their depth.

    Depth-first pre-order over non-alternate scenes: a scene plays its own clips, then its sub-scenes in
    ``order``. Alternate scenes and everything under them are off the main timeline. With ``root`` given,
    the root itself comes first (depth 0) even when it is an alternate. A cycle in bad data is cut, not looped.
    """
    children: dict[str | None, list[SceneNode]] = {}
    for node in nodes:
        if not node.is_alternate:
            children.setdefault(node.parent_id, []).append(node)
    for siblings in children.values():
        siblings.sort(key=lambda n: (n.order, n.scene_id))
    sequence: list[tuple[str, int]] = []
    seen: set[str] = set()

    def walk(parent: str | None, depth: int) -> None:
        for child in children.get(parent, []):
            if child.scene_id not in seen:
                seen.add(child.scene_id)
                sequence.append((child.scene_id, depth))
                walk(child.scene_id, depth + 1)

    if root is None:
        walk(None, 0)
    else:
        seen.add(root)
        sequence.append((root, 0))
        walk(root, 1)
    return sequence


@dataclass(frozen=True)
class Placement:
    """A scene's place on its project's timeline."""

    offset: float
    """Where it starts, seconds."""
    depth: int
    """0 at the top level, +1 per sub-scene level (an alternate has its original's depth)."""
    on_main: bool
    """Whether it plays on the main timeline (False for alternates and everything under them)."""


@dataclass(frozen=True)
class ProjectPlacement:
    places: dict[str, Placement]
    """Every scene, in play order: the main timeline, then each alternate with its sub-scenes."""
    total: float
    """Length of the main timeline, seconds."""


def place_scenes(nodes: Sequence[SceneNode], lengths: Mapping[str, float]) -> ProjectPlacement:
    """Every scene's place on the project timeline: the one placement the tree and the analysis both show.

    The main timeline plays the non-alternate scenes depth first (a scene, then its sub-scenes in ``order``), each
    as long as ``lengths`` says. A scene whose parent is missing (or is itself) counts as a top-level scene, as the
    tree lists it. An alternate starts where its original starts, its own sub-scenes after it. Scenes reachable
    from nowhere (a parent cycle in bad data) join the end of the main timeline, the cycle cut where it closes.
    """
    known = {n.scene_id for n in nodes}
    main_under: dict[str | None, list[SceneNode]] = {}
    alternates_of: dict[str, list[SceneNode]] = {}
    ordered = sorted(nodes, key=lambda n: (n.order, n.scene_id))
    for node in ordered:
        parent = node.parent_id if node.parent_id in known and node.parent_id != node.scene_id else None
        if node.is_alternate and parent is not None:
            alternates_of.setdefault(parent, []).append(node)
        else:
            main_under.setdefault(parent, []).append(node)
    places: dict[str, Placement] = {}
    starts: dict[str, int] = {}  # centiseconds, so sums never gather float noise
    played: list[str] = []

    def chain(root: SceneNode, start: int, depth: int, on_main: bool) -> int:
        at, stack = start, [(root, depth)]
        while stack:
            node, level = stack.pop()
            if node.scene_id in places:
                continue
            places[node.scene_id], starts[node.scene_id] = Placement(at / 100, level, on_main), at
            played.append(node.scene_id)
            at += _cs(lengths.get(node.scene_id, 0.0))
            stack.extend((child, level + 1) for child in reversed(main_under.get(node.scene_id, [])))
        return at

    end = 0
    for top in main_under.get(None, []):
        end = chain(top, end, 0, True)
    while True:
        done = 0
        while done < len(played):  # alternates of the scenes placed so far, including alternates' sub-scenes
            scene_id = played[done]
            done += 1
            for alternate in alternates_of.get(scene_id, []):
                chain(alternate, starts[scene_id], places[scene_id].depth, False)
        stray = next((n for n in ordered if n.scene_id not in places), None)
        if stray is None:
            return ProjectPlacement(places=places, total=end / 100)
        end = chain(stray, end, 0, True)
