"""Alternate timelines of a scene: create one (numbered atomically), list a family, promote one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp_storyboard.errors import ConflictError, InvalidStateError
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.repositories.base import Session
from mcp_storyboard.services.common.clip_stats import recount_clips
from mcp_storyboard.services.common.alternates import alternate_name, counter_key
from mcp_storyboard.services.common.parents import create_under
from mcp_storyboard.services.scenes.base import LIST_HINT, SceneSupport
from mcp_storyboard.services.scenes.rules import copy_main_clips, describe
from mcp_storyboard.services.scenes.views import (
    PromotedScene,
    SceneFamily,
    SceneWithClips,
)
if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories


class SceneAlternates:
    """The alternate-timeline operations of the scene service (composed into ``SceneService``, which exposes
    them)."""

    def __init__(self, repos: Repositories, support: SceneSupport) -> None:
        self.repos = repos
        self.support = support

    async def family(self, scene_id: str) -> SceneFamily:
        """The family of a scene: its original (the scene itself when it is main) and the original's alternates.

        Raises:
            NotFoundError: no such scene.
        """
        original = await self.support.original(await self.support.get(scene_id))
        return SceneFamily(original=original, alternates=await self.repos.scenes.alternates_of(original.id))

    async def create_alternate(self, scene_id: str, *, copy_clips: bool = False) -> SceneWithClips:
        """A new alternate of the scene's original, named "<original name> A<n>" with n taken atomically.

        Raises:
            NotFoundError: no such scene.
        """
        source = await self.support.get(scene_id)
        original = await self.support.original(source)
        existing = await self.repos.scenes.alternates_of(original.id)
        # Outside the transaction: concurrent callers must each get their own n, never a write conflict.
        number = await self.repos.counters.next_value(
            counter_key("scene", original.id), at_least=max((a.alternate_number or 0 for a in existing), default=0)
        )
        alternate = Scene(
            project_id=original.project_id, name=alternate_name(original.name, number),
            description=source.description, lyrics=source.lyrics, parent_scene_id=original.id,
            is_alternate=True, alternate_number=number, order=0,
        )

        async def work(session: Session) -> list[Clip]:
            current = await self.support.get(original.id, session=session)
            if current.is_alternate:
                raise ConflictError(f"scene {original.id} was promoted while its alternate was being created",
                                    field="scene_id", hint="call create_alternate_scene again")
            # Read in the transaction, so the copies are the source's clips at commit.
            clips = await self.repos.clips.list_for_scene(source.id, session=session) if copy_clips else []
            copies = copy_main_clips(clips, alternate.id)
            await self.repos.scenes.insert(alternate, session=session)
            await self.repos.clips.insert_many(copies, session=session)
            await recount_clips(self.repos, [alternate.id], session=session)
            return copies

        async def undo(copies: list[Clip]) -> None:
            await self.repos.clips.delete_for_scenes([alternate.id])
            await self.repos.scenes.delete(alternate.id)

        # The original is the parent: writing it conflicts with its delete (and with the project's, which deletes
        # it), and with a promotion of its family.
        parents = [(self.repos.scenes, source.id)] if source.id != original.id else []
        copies = await create_under(self.repos.database, self.repos.scenes, original.id, work, undo,
                                    hint=LIST_HINT, also=parents)
        return SceneWithClips.of(alternate, copies, [])

    async def promote_alternate(self, scene_id: str) -> PromotedScene:
        """Swap an alternate onto the main timeline in its original's place.

        The alternate takes the original's parent, order and main status; the former original (with a fresh
        number) and the other alternates become its alternates; the former original's sub-scenes move under it.

        Raises:
            NotFoundError: no such scene.
            InvalidStateError: code ``alternate-not-found``, the scene is not an alternate.
            ConflictError: the family changed while promoting (retry).
        """
        scene = await self.support.get(scene_id)
        if not scene.is_alternate:
            alternates = await self.repos.scenes.alternates_of(scene_id)
            raise InvalidStateError(f"scene {scene_id} is not an alternate: it is on the main timeline",
                                    hint=f"promote one of its alternates: {describe(alternates)}",
                                    code="alternate-not-found")
        original_id = scene.parent_scene_id or ""
        others = [a for a in await self.repos.scenes.alternates_of(original_id) if a.id != scene_id]
        # Taken before the transaction (a counter write inside it would conflict with concurrent callers); a
        # number lost to a failed promotion only leaves a gap.
        number = await self.repos.counters.next_value(
            counter_key("scene", scene_id), at_least=max((a.alternate_number or 0 for a in others), default=0)
        )

        async def work(session: Session) -> list[str]:
            current = await self.support.get(scene_id, session=session)
            if current.parent_scene_id != original_id or not current.is_alternate:
                raise ConflictError(f"scene {scene_id} changed while it was being promoted", field="scene_id",
                                    hint="call promote_alternate again")
            original = await self.support.get(original_id, session=session)
            await self.support.lock_project(original.project_id, session)
            family = await self.repos.scenes.alternates_of(original_id, session=session)
            subs = [s.id for s in await self.repos.scenes.siblings(original.project_id, original_id, session=session)]
            await self.repos.scenes.update_fields(scene_id, {
                "parent_scene_id": original.parent_scene_id, "is_alternate": False, "alternate_number": None,
                "order": original.order}, session=session)
            await self.repos.scenes.update_fields(original_id, {
                "parent_scene_id": scene_id, "is_alternate": True, "alternate_number": number, "order": 0},
                session=session)
            await self.repos.scenes.set_parent([a.id for a in family if a.id != scene_id] + subs, scene_id,
                                               session=session)
            return subs

        subs = await self.support.atomic(work)
        promoted = await self.support.get(scene_id)
        return PromotedScene(scene=promoted, alternates=await self.repos.scenes.alternates_of(scene_id),
                             moved_sub_scene_ids=subs)

