"""Where clips are: timing on the scene timeline, display order, and moves between scenes of one project.

A helper composed into :class:`mcp_storyboard.services.clips.ClipService` (which exposes its operations); each
change runs in one serialised scene transaction (``serial``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mcp_storyboard.errors import InvalidStateError, ValidationError
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.clips.order import (
    check_exact_set,
    family_block,
    insert_block,
    order_changes,
)
from mcp_storyboard.services.clips.lookups import ClipLookups
from mcp_storyboard.services.clips.results import ClipMoved, ClipOrder
from mcp_storyboard.services.clips.serial import Session, in_scene_transaction
from mcp_storyboard.services.clips.timeline import check_free_slot, check_timeline_end
from mcp_storyboard.services.common.timeline import Slot

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories

_MAX_LISTED_SCENES = 20


class ClipPlacement:
    """Timing, order and moves of clips (composed into ``ClipService``, which shares its lookups)."""

    def __init__(self, repos: Repositories, lookups: ClipLookups) -> None:
        self.repos = repos
        self.lookups = lookups

    async def set_timing(
        self,
        clip_id: str,
        *,
        timeline_position: float | None = None,
        duration: float | None = None,
        allow_overlap: bool = False,
        move_alternates: bool = False,
    ) -> Clip:
        """Set a clip's start and/or duration on its scene's timeline.

        A main clip may not overlap another main clip of the scene unless ``allow_overlap``; an alternate is never
        checked. ``move_alternates`` also writes the given values to the clip's alternates (they keep their own
        timing otherwise).

        Raises:
            NotFoundError: no such clip.
            ValidationError: neither value given; the clip would end after 10,000 s.
            ConflictError: the new slot overlaps a main clip (code ``clip-overlap``, with the suggested position).
        """
        if timeline_position is None and duration is None:
            raise ValidationError("timeline_position", "give timeline_position, duration or both")
        clip = await self.lookups.clip(clip_id)
        scene = await self.lookups.scene(clip.scene_id)

        async def work(session: Session) -> Clip:
            current = await self.lookups.reread(clip, session)
            fields = {
                k: v for k, v in (("timeline_position", timeline_position), ("duration", duration)) if v is not None
            }
            position = fields.get("timeline_position", current.timeline_position)
            length = fields.get("duration", current.duration)
            check_timeline_end(position, length)
            if current.alternate_of is None and not allow_overlap:
                main = await self.repos.clips.main_timeline(current.scene_id, session=session)
                check_free_slot(Slot(current.id, position, length, current.name), main, scene=scene)
            updated = await self.repos.clips.update_fields(clip_id, fields, session=session)
            if move_alternates and current.alternate_of is None:
                for alternate in await self.repos.clips.alternates_of(clip_id, session=session):
                    check_timeline_end(
                        fields.get("timeline_position", alternate.timeline_position),
                        fields.get("duration", alternate.duration),
                    )
                await self.repos.clips.set_timing_of_alternates(clip_id, fields, session=session)
            return updated

        return await in_scene_transaction(self.repos, [clip.scene_id], work)

    async def reorder(self, scene_id: str, clip_ids: Sequence[str]) -> ClipOrder:
        """Put a scene's clips in the given order (all of them, alternates included, each once): order 0..n-1.

        Raises:
            NotFoundError: no such scene.
            ValidationError: the list is not exactly the scene's clips (the message names what is off).
        """
        scene = await self.lookups.scene(scene_id)

        async def work(session: Session) -> ClipOrder:
            current = await self.repos.clips.list_for_scene(scene_id, session=session)
            check_exact_set([c.id for c in current], clip_ids, scene=scene_id)
            await self.repos.clips.set_orders(
                order_changes({c.id: c.order for c in current}, clip_ids), session=session
            )
            return ClipOrder(scene_id=scene_id, project_id=scene.project_id, clip_ids=list(clip_ids))

        return await in_scene_transaction(self.repos, [scene_id], work)

    async def _target_scene(self, clip: Clip, scene_id: str) -> Scene:
        target = await self.lookups.scene(scene_id)
        if target.project_id != clip.project_id:
            scenes = await self.repos.scenes.list_for_project(clip.project_id)
            listed = ", ".join(f"'{s.name}' ({s.id})" for s in scenes[:_MAX_LISTED_SCENES])
            more = f" and {len(scenes) - _MAX_LISTED_SCENES} more" if len(scenes) > _MAX_LISTED_SCENES else ""
            raise InvalidStateError(
                f"scene_id: scene '{target.name}' ({target.id}) is in another project than clip {clip.id} "
                f"(project {clip.project_id}); clips move only between scenes of one project",
                code="invalid-parent",
                hint=f"scenes in project {clip.project_id}: {listed}{more}",
            )
        if clip.alternate_of is not None and target.id != clip.scene_id:
            raise InvalidStateError(
                f"scene_id: clip {clip.id} is an alternate of {clip.alternate_of}; alternates stay in their "
                "original's scene",
                code="invalid-parent",
                hint=f"move the original {clip.alternate_of} instead (its alternates follow)",
            )
        return target

    async def move(
        self,
        clip_id: str,
        *,
        scene_id: str | None = None,
        order: int | None = None,
        timeline_position: float | None = None,
        allow_overlap: bool = False,
    ) -> ClipMoved:
        """Move a clip to another scene of its project and/or to another place in the display order, optionally
        to a new timeline position; its alternates follow it (keeping their own timing).

        A main clip arriving in another scene (or given a new position) may not overlap the target's main clips
        unless ``allow_overlap``. Without ``order`` a clip moved to another scene is listed last. Both scenes'
        orders end dense 0..n-1.

        Raises:
            NotFoundError: no such clip or scene.
            ValidationError: nothing to do; ``order`` out of range; the clip would end after 10,000 s.
            InvalidStateError: the scene is in another project, or the clip is an alternate leaving its original's
                scene (code ``invalid-parent``).
            ConflictError: an overlap in the target scene (code ``clip-overlap``, with the suggested position).
        """
        if scene_id is None and order is None and timeline_position is None:
            raise ValidationError("scene_id", "give scene_id, order or timeline_position to move the clip")
        clip = await self.lookups.clip(clip_id)
        target = await self._target_scene(clip, scene_id or clip.scene_id)
        changes_scene = target.id != clip.scene_id

        async def work(session: Session) -> ClipMoved:
            current = await self.lookups.reread(clip, session)
            source = await self.repos.clips.list_for_scene(clip.scene_id, session=session)
            members = [clip.id] + (
                [c.id for c in source if c.alternate_of == clip.id] if clip.alternate_of is None else []
            )
            block = family_block([c.id for c in source], members)
            staying = [c for c in source if c.id not in set(members)]
            arrivals = await self.repos.clips.list_for_scene(target.id, session=session) if changes_scene else staying
            position = timeline_position if timeline_position is not None else current.timeline_position
            if changes_scene or timeline_position is not None:
                check_timeline_end(position, current.duration)
                if current.alternate_of is None and not allow_overlap:
                    main = [c for c in arrivals if c.alternate_of is None]
                    check_free_slot(Slot(clip.id, position, current.duration, clip.name), main, scene=target)
            if changes_scene or order is not None:
                ids = insert_block([c.id for c in arrivals], block, order)
                previous = {c.id: c.order for c in arrivals}
                await self.repos.clips.set_orders(
                    [oc for oc in order_changes(previous, ids) if oc[0] not in set(members)], session=session
                )
                await self.repos.clips.set_orders(
                    [(m, ids.index(m)) for m in block], scene_id=target.id if changes_scene else None, session=session
                )
            if changes_scene:
                kept = [c.id for c in staying]
                await self.repos.clips.set_orders(
                    order_changes({c.id: c.order for c in staying}, kept), session=session
                )
            if timeline_position is not None:
                await self.repos.clips.update_fields(clip.id, {"timeline_position": position}, session=session)
            moved = await self.repos.clips.get(clip.id, session=session)
            return ClipMoved(clip=moved, from_scene_id=clip.scene_id)

        return await in_scene_transaction(self.repos, [clip.scene_id, target.id], work)
