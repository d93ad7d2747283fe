"""Clips: create, read, update and delete; alternates; timeline analysis and completion.

Placement on the timeline and in the display order (move, reorder, timing) is in ``placement``; the
gallery of generated media in ``gallery``; both are composed helpers sharing this service's ``lookups``. Every
change to a scene's clips runs in one transaction that holds the scene's lock (``serial``), so concurrent changes
to one scene are serialised where the backend has transactions.

Decisions:
- ``order`` is dense 0..n-1 over all clips of a scene, alternates included; an alternate is placed right after
  its family, and a moved or deleted clip takes its alternates along.
- Overlaps are checked among a scene's main clips only. An alternate keeps its own timing fields (copied from
  its original when created), is never checked, and does not follow its original's timing changes unless
  ``set_clip_timing`` is asked to move the alternates too.
- A clip ends by 10,000 s: position + duration never passes the end of the scene timeline on a write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mcp_storyboard.errors import (
    InvalidStateError,
    NotFoundError,
    ValidationError,
)
from mcp_storyboard.models.clips import Clip, ClipPatch
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.clips.gallery import ClipGalleryService
from mcp_storyboard.services.clips.lookups import SCENE_HINT, ClipLookups
from mcp_storyboard.services.clips.order import after_family, insert_block, order_changes
from mcp_storyboard.services.clips.placement import ClipPlacement
from mcp_storyboard.services.clips.results import (
    ClipAlternates,
    ClipChanges,
    ClipDeleted,
    ClipMoved,
    ClipOrder,
    ClipPage,
    NewClip,
    TimelineAnalysis,
)
from mcp_storyboard.services.clips.serial import Session, in_scene_transaction
from mcp_storyboard.services.clips.timeline import (
    analyse,
    check_free_slot,
    check_timeline_end,
    slot_of,
)
from mcp_storyboard.services.common.alternates import alternate_name, counter_key
from mcp_storyboard.services.common.clip_stats import recount_clips
from mcp_storyboard.services.common.parents import create_under
from mcp_storyboard.services.common.timeline import (
    GAP_THRESHOLD_SECONDS,
    SceneNode,
    timeline_end,
    timeline_sequence,
)

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories

COMPLETION_SCAN = 1000
"""Clips of one scene scanned for a completion."""


class ClipService:
    """Clips of scenes: CRUD, alternates, analysis; placement (:class:`ClipPlacement`) and the gallery
    (:class:`ClipGalleryService`) are composed helpers, placement reached through this service's methods."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos
        self.lookups = ClipLookups(repos)
        self.placement = ClipPlacement(repos, self.lookups)
        self.gallery = ClipGalleryService(repos)

    # -- lookups ---------------------------------------------------------------------------------------------------
    async def get(self, clip_id: str) -> Clip:
        """One clip by id.

        Raises:
            NotFoundError: no such clip.
        """
        return await self.lookups.clip(clip_id)

    # -- placement: timing, order and moves (ClipPlacement) ------------------------------------------------------
    async def set_timing(
        self,
        clip_id: str,
        *,
        timeline_position: float | None = None,
        duration: float | None = None,
        allow_overlap: bool = False,
        move_alternates: bool = False,
    ) -> Clip:
        """See :meth:`ClipPlacement.set_timing`."""
        return await self.placement.set_timing(
            clip_id, timeline_position=timeline_position, duration=duration,
            allow_overlap=allow_overlap, move_alternates=move_alternates,
        )  # fmt: skip

    async def reorder(self, scene_id: str, clip_ids: Sequence[str]) -> ClipOrder:
        """See :meth:`ClipPlacement.reorder`."""
        return await self.placement.reorder(scene_id, clip_ids)

    async def move(
        self,
        clip_id: str,
        *,
        scene_id: str | None = None,
        order: int | None = None,
        timeline_position: float | None = None,
        allow_overlap: bool = False,
    ) -> ClipMoved:
        """See :meth:`ClipPlacement.move`."""
        return await self.placement.move(
            clip_id, scene_id=scene_id, order=order, timeline_position=timeline_position, allow_overlap=allow_overlap
        )

    # -- reads ---------------------------------------------------------------------------------------------------
    async def list_for_scene(
        self, scene_id: str, *, include_alternates: bool = True, limit: int | None = None, cursor: str | None = None
    ) -> ClipPage:
        """A scene's clips in display order, one page at a time.

        Raises:
            NotFoundError: no such scene.
            ValidationError: ``cursor`` did not come from this list.
        """
        await self.lookups.scene(scene_id)
        page = await self.repos.clips.page_for_scene(
            scene_id, include_alternates=include_alternates, limit=limit, cursor=cursor
        )
        return ClipPage(items=page.items, next_cursor=page.next_cursor)

    async def alternates(self, clip_id: str) -> ClipAlternates:
        """The family of a clip: its original (the clip itself, or the one it is an alternate of) and alternates.

        Raises:
            NotFoundError: no such clip (or its original is gone: code ``alternate-not-found``).
        """
        original = await self._original(await self.get(clip_id))
        return ClipAlternates(original=original, alternates=await self.repos.clips.alternates_of(original.id))

    async def _original(self, clip: Clip) -> Clip:
        if clip.alternate_of is None:
            return clip
        original = await self.repos.clips.find(clip.alternate_of)
        if original is None:
            raise NotFoundError(
                "clip",
                clip.alternate_of,
                code="alternate-not-found",
                hint=f"clip {clip.id} is an alternate of a clip that no longer exists",
            )
        return original

    async def analyze(
        self,
        *,
        project_id: str | None = None,
        scene_id: str | None = None,
        gap_threshold: float = GAP_THRESHOLD_SECONDS,
    ) -> TimelineAnalysis:
        """The timeline report of a whole project, or of one scene and its sub-scenes.

        A project's main timeline plays its non-alternate scenes depth first (a scene's own clips, then its
        sub-scenes in order); each scene is as long as its last main clip ends. Alternate scenes are reported
        after it, with no offset.

        Raises:
            ValidationError: neither project_id nor scene_id.
            NotFoundError: no such project or scene.
            InvalidStateError: the scene is not in the given project (code ``invalid-parent``).
        """
        root: Scene | None = None
        if scene_id is not None:
            root = await self.lookups.scene(scene_id)
            if project_id is not None and root.project_id != project_id:
                raise InvalidStateError(
                    f"scene {scene_id} is in project {root.project_id}, not in {project_id}",
                    code="invalid-parent",
                    hint="leave project_id out to analyse the scene",
                )
            project_id = root.project_id
        if project_id is None:
            raise ValidationError(
                "project_id", "give project_id (the whole project) or scene_id (one scene and its sub-scenes)"
            )
        project = await self.lookups.project(project_id)
        scenes = await self.repos.scenes.list_for_project(project_id)
        if root is None:
            clips = await self.repos.clips.list_for_project(project_id)
        else:
            nodes = [SceneNode(s.id, s.parent_scene_id, s.is_alternate, s.order) for s in scenes]
            clips = await self.repos.clips.list_for_scenes([sid for sid, _ in timeline_sequence(nodes, root=root.id)])
        return analyse(
            project_id, scenes, clips, root=root, threshold=gap_threshold, music_duration=project.music_duration
        )

    async def complete_ids(self, value: str, *, scene_id: str | None = None) -> list[str]:
        """Clip ids for argument completion: a scene's clips (in order) whose id starts with ``value`` or whose name
        contains it; without a scene, any clip ids starting with ``value``."""
        if len(value) > 200:
            return []
        if scene_id:
            needle = value.casefold()
            pairs = await self.repos.clips.id_name_pairs(scene_id=scene_id, limit=COMPLETION_SCAN)
            return [cid for cid, name in pairs if cid.startswith(value) or needle in name.casefold()]
        return [cid for cid, _ in await self.repos.clips.id_name_pairs(id_prefix=value, limit=101)]

    # -- writes --------------------------------------------------------------------------------------------------
    async def create(
        self,
        scene_id: str,
        new: NewClip,
        *,
        timeline_position: float | None = None,
        order: int | None = None,
        allow_overlap: bool = False,
    ) -> Clip:
        """Create a clip in a scene (the project comes from the scene).

        Without ``timeline_position`` the clip starts where the scene's main timeline ends; without ``order`` it is
        listed last. An explicit position that overlaps a main clip is refused unless ``allow_overlap``.

        Raises:
            NotFoundError: no such scene.
            ValidationError: a text clip without content; ``order`` out of range; the clip would end after 10,000 s.
            ConflictError: the position overlaps a main clip (code ``clip-overlap``, with a suggested position).
        """
        if new.type == "text" and not new.content.strip():
            raise ValidationError(
                "content",
                "a text clip needs non-empty content",
                hint="pass the text it shows, or choose type image or video",
            )
        scene = await self.lookups.scene(scene_id)

        async def work(session: Session) -> Clip:
            current = await self.repos.clips.list_for_scene(scene_id, session=session)
            main = [c for c in current if c.alternate_of is None]
            position = timeline_position if timeline_position is not None else timeline_end(map(slot_of, main))
            check_timeline_end(position, new.duration)
            clip = Clip.model_validate(
                {
                    **new.model_dump(),
                    "scene_id": scene_id,
                    "project_id": scene.project_id,
                    "timeline_position": position,
                }
            )
            if timeline_position is not None and not allow_overlap:
                check_free_slot(slot_of(clip), main, scene=scene)
            ids = insert_block([c.id for c in current], [clip.id], order)
            clip.order = ids.index(clip.id)
            changes = order_changes({c.id: c.order for c in current}, ids)
            await self.repos.clips.set_orders([oc for oc in changes if oc[0] != clip.id], session=session)
            await self.repos.clips.insert(clip, session=session)
            await recount_clips(self.repos, [scene_id], session=session)
            return clip

        # The scene is the parent: writing it serialises the scene's clip changes (as ``in_scene_transaction``
        # does) and conflicts with the scene's delete and the project's (which deletes the scene).
        return await create_under(self.repos.database, self.repos.scenes, scene_id, work, self._undo_create,
                                  hint=SCENE_HINT)

    async def update(self, clip_id: str, changes: ClipChanges) -> Clip:
        """Change a clip's content fields (name, type, content, lyrics, prompts, URLs); null clears optional ones.

        Raises:
            NotFoundError: no such clip.
            ValidationError: nothing to change; the clip would be a text clip without content.
        """
        fields = changes.changes()
        if not fields:
            raise ValidationError("changes", "has no field to change", allowed=list(ClipChanges.model_fields))
        clip = await self.get(clip_id)
        if fields.get("type", clip.type) == "text" and not str(fields.get("content", clip.content)).strip():
            raise ValidationError(
                "content", "a text clip needs non-empty content", hint="set content together with type text"
            )
        return await self.repos.clips.apply_patch(clip_id, ClipPatch.model_validate(fields))

    async def delete(self, clip_id: str, *, confirm: bool = False) -> ClipDeleted:
        """Delete a clip and its alternates; the scene's remaining clips are renumbered 0..n-1.

        Raises:
            NotFoundError: no such clip.
            InvalidStateError: it has alternates and ``confirm`` is false (code ``confirmation-required``).
        """
        clip = await self.get(clip_id)

        async def work(session: Session) -> ClipDeleted:
            current = await self.lookups.reread(clip, session)
            alternates = [] if current.alternate_of else await self.repos.clips.alternates_of(clip.id, session=session)
            if alternates and not confirm:
                raise InvalidStateError(
                    f"clip {clip.id} has {len(alternates)} alternate(s) that would be deleted with it: "
                    + ", ".join(a.id for a in alternates),
                    code="confirmation-required",
                    hint="call delete_clip again with confirm: true, or delete the alternates first",
                )
            await self.repos.clips.delete_with_alternates(clip.id, session=session)
            remaining = await self.repos.clips.list_for_scene(clip.scene_id, session=session)
            changes = order_changes({c.id: c.order for c in remaining}, [c.id for c in remaining])
            await self.repos.clips.set_orders(changes, session=session)
            if current.alternate_of is None:
                await self.repos.counters.delete([counter_key("clip", clip.id)], session=session)
            return ClipDeleted(
                id=clip.id,
                scene_id=clip.scene_id,
                project_id=clip.project_id,
                deleted_alternate_ids=[a.id for a in alternates],
            )

        return await in_scene_transaction(self.repos, [clip.scene_id], work)

    async def create_alternate(self, clip_id: str) -> Clip:
        """Create an alternate of a clip (of its original, when given an alternate: one level deep).

        It is named "<original name or 'Clip'> A<n>" with n taken from an atomic counter, copies the prompts,
        lyrics, timing, type, content, character and style template, starts with an empty gallery, and is listed
        right after its family.

        Raises:
            NotFoundError: no such clip (or the original of the given alternate is gone).
        """
        original = await self._original(await self.get(clip_id))
        existing = await self.repos.clips.alternates_of(original.id)
        # Taken outside the transaction: an aborted attempt only leaves a gap in the numbers, never a duplicate.
        number = await self.repos.counters.next_value(
            counter_key("clip", original.id), at_least=max((a.alternate_number or 0 for a in existing), default=0)
        )

        async def work(session: Session) -> Clip:
            await self.lookups.reread(original, session)
            current = await self.repos.clips.list_for_scene(original.scene_id, session=session)
            family = [original.id] + [c.id for c in current if c.alternate_of == original.id]
            alternate = Clip(
                scene_id=original.scene_id,
                project_id=original.project_id,
                name=alternate_name(original.name or "Clip", number),
                **original.model_dump(
                    include={
                        "type",
                        "content",
                        "lyrics",
                        "image_prompt",
                        "video_prompt",
                        "timeline_position",
                        "duration",
                        "character_id",
                        "style_template_id",
                    }
                ),
                alternate_of=original.id,
                alternate_number=number,
            )
            ids = insert_block([c.id for c in current], [alternate.id], after_family([c.id for c in current], family))
            alternate.order = ids.index(alternate.id)
            changes = order_changes({c.id: c.order for c in current}, ids)
            await self.repos.clips.set_orders([oc for oc in changes if oc[0] != alternate.id], session=session)
            await self.repos.clips.insert(alternate, session=session)
            await recount_clips(self.repos, [original.scene_id], session=session)
            return alternate

        return await create_under(self.repos.database, self.repos.scenes, original.scene_id, work, self._undo_create,
                                  hint=SCENE_HINT, also=[(self.repos.clips, original.id)])

    async def _undo_create(self, clip: Clip) -> None:
        # Only without transactions, when the clip's scene (or original) vanished while it was created.
        await self.repos.clips.delete(clip.id)
