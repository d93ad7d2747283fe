"""Scenes: create, read, nest, order, delete with cascade, and alternate timelines (create, list, promote).

Every multi-document write reads and validates first and writes only after every check passed, inside one
transaction where the backend has them, retried when it collides with a concurrent one (memory:// has none, so
validating first is what keeps "nothing written on failure" there). Sibling orders are dense 0..n-1: every change
to a sibling list writes the project in its transaction, so such changes are serialised and each computes orders
from a list no one else is changing (and a create conflicts with its project's or parent's delete, see
``services/common/parents.py``). Without transactions the list is settled after the write instead (re-densified by
``(order, id)``), so two concurrent appends that both took slot n end as n and n+1.
Decisions beyond docs/architecture.md:

- Alternates have no sub-scenes, their ``order`` is 0 (they sort by ``alternate_number``), and they move with their
  original. Sub-scenes hang off the main scene of a family: promoting an alternate moves the former original's
  sub-scenes under the promoted scene, and promoting back moves them back.
- Alternate names and numbers: "<original name> A<n>" with n from the family's atomic counter; a promoted
  alternate keeps its name, and the former original keeps its name and takes a fresh number of the new family.
- ``create_alternate`` copies text from the scene it is given (an alternate of an alternate copies that
  alternate's text and clips) but always names and parents the new scene after the original. ``copy_clips``
  copies the main clips (not clip alternates) with new ids, the same timing, their display order renumbered
  0..n-1 (no gaps where alternates were left out) and an empty gallery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp_storyboard.errors import InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.models.clip_outline import SceneClipStats
from mcp_storyboard.models.scenes import Scene, ScenePatch
from mcp_storyboard.repositories.base import Session
from mcp_storyboard.services.common.alternates import counter_key
from mcp_storyboard.services.scenes.alternates import SceneAlternates
from mcp_storyboard.services.scenes.base import LIST_HINT, SceneSupport
from mcp_storyboard.services.scenes.rules import (
    check_full_list,
    check_parent,
    check_position,
    dense_orders,
    describe,
)
from mcp_storyboard.services.scenes.views import (
    PromotedScene,
    SceneDeletion,
    SceneFamily,
    ScenePage,
    SceneRef,
    SceneWithClips,
    SiblingOrder,
)

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories


class SceneService:
    """Scene operations over the repositories; alternate timelines are the composed :class:`SceneAlternates`,
    the lookups and transactions both use are :class:`SceneSupport`."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos
        self.support = SceneSupport(repos)
        self.alternates = SceneAlternates(repos, self.support)

    async def get(self, scene_id: str, *, session: Session = None) -> Scene:
        """One scene.

        Raises:
            NotFoundError: no such scene.
        """
        return await self.support.get(scene_id, session=session)

    # -- alternate timelines (SceneAlternates) ---------------------------------------------------------
    async def family(self, scene_id: str) -> SceneFamily:
        """See :meth:`SceneAlternates.family`."""
        return await self.alternates.family(scene_id)

    async def create_alternate(self, scene_id: str, *, copy_clips: bool = False) -> SceneWithClips:
        """See :meth:`SceneAlternates.create_alternate`."""
        return await self.alternates.create_alternate(scene_id, copy_clips=copy_clips)

    async def promote_alternate(self, scene_id: str) -> PromotedScene:
        """See :meth:`SceneAlternates.promote_alternate`."""
        return await self.alternates.promote_alternate(scene_id)

    # -- reads -----------------------------------------------------------------------------------------
    async def get_with_clips(self, scene_id: str) -> SceneWithClips:
        """A scene with its clips in order, its sub-scene ids and alternate ids (three queries).

        Raises:
            NotFoundError: no such scene.
        """
        scene = await self.get(scene_id)
        clips = await self.repos.clips.list_for_scene(scene_id)
        return SceneWithClips.of(scene, clips, await self.repos.scenes.children(scene_id))

    async def list_for_project(
        self,
        project_id: str,
        *,
        parent_scene_id: str | None = None,
        top_level_only: bool = False,
        include_alternates: bool = False,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> ScenePage:
        """Scenes of a project by ``order`` (then id), optionally one sibling list.

        Raises:
            ValidationError: ``top_level`` together with ``parent_scene_id``, or a bad cursor.
            NotFoundError: no such project, or the parent is not a scene of it.
        """
        if parent_scene_id is not None and top_level_only:
            raise ValidationError("top_level", "cannot be combined with parent_scene_id",
                                  hint="give one of them, or neither for every scene of the project")
        await self.support.require_project(project_id)
        if parent_scene_id is not None:
            parent = await self.repos.scenes.find(parent_scene_id)
            if parent is None or parent.project_id != project_id:
                raise NotFoundError("scene", parent_scene_id, hint=f"parent_scene_id must be a scene of project "
                                    f"{project_id}; {LIST_HINT}")
        page = await self.repos.scenes.page_for_project(
            project_id, parent_scene_id=parent_scene_id, top_level_only=top_level_only,
            include_alternates=include_alternates, limit=limit, cursor=cursor,
        )
        return ScenePage(items=page.items, next_cursor=page.next_cursor)

    async def complete_ids(self, prefix: str, *, project_id: str | None = None) -> list[str]:
        """Scene ids starting with ``prefix`` (within ``project_id`` when given), for argument completion."""
        return await self.repos.scenes.ids_starting_with(prefix, project_id=project_id)

    # -- writes ----------------------------------------------------------------------------------------
    async def create(
        self,
        project_id: str,
        *,
        name: str,
        description: str = "",
        lyrics: str = "",
        parent_scene_id: str | None = None,
        position: int | None = None,
    ) -> Scene:
        """Create a main scene at the top level or under ``parent_scene_id``, last or at ``position``.

        Raises:
            NotFoundError: no such project.
            InvalidStateError: code ``invalid-parent`` (another project's scene, an alternate, too deep).
            ValidationError: ``position`` outside 0..number of siblings.
        """
        scene = Scene(project_id=project_id, name=name, description=description, lyrics=lyrics,
                      parent_scene_id=parent_scene_id)

        async def work(session: Session) -> Scene:
            forest = await self.support.forest(project_id, session=session)
            if parent_scene_id is not None:
                check_parent(forest, parent_scene_id, project_id=project_id)
            siblings = forest.main_children(parent_scene_id)
            scene.order = check_position(position, len(siblings))
            shifted = dense_orders([*siblings[: scene.order], scene, *siblings[scene.order :]])
            await self.repos.scenes.set_orders(shifted, session=session)
            await self.repos.scenes.insert(scene, session=session)
            await self.repos.scenes.set_clip_stats(SceneClipStats.of_clips(scene.id, []), session=session)
            return scene

        async def undo(created: Scene) -> None:
            await self.repos.scenes.delete(created.id)

        created = await self.support.create_in(project_id, work, undo, parent_scene_id=parent_scene_id)
        if self.repos.database.capabilities.transactions:
            return created  # computed under the project's lock: what was stored, and still is at commit
        await self.support.settle(project_id, parent_scene_id)
        return await self.get(scene.id)

    async def update(self, scene_id: str, patch: ScenePatch) -> Scene:
        """Change a scene's name, description or lyrics (only the fields set on ``patch``).

        Raises:
            ValidationError: nothing to change, or ``order`` (that goes through reorder/move).
            NotFoundError: no such scene.
        """
        changes = patch.changes()
        if "order" in changes:
            raise ValidationError("order", "is changed by reorder_scenes or move_scene, not by an update",
                                  hint="call reorder_scenes with the full sibling list, or move_scene with a position")
        if not changes:
            raise ValidationError("name", "nothing to change", hint="give at least one of name, description, lyrics")
        await self.get(scene_id)
        return await self.repos.scenes.apply_patch(scene_id, patch)

    async def delete(self, scene_id: str, *, confirm: bool = False) -> SceneDeletion:
        """Delete a scene with its sub-scenes (recursively), their alternates, all their clips and counters.

        Raises:
            NotFoundError: no such scene.
            InvalidStateError: code ``confirmation-required`` when more than the scene itself would go and
                ``confirm`` is false; the message says what would go, and nothing is changed.
        """

        async def work(session: Session) -> tuple[Scene, list[str], list[str]]:
            scene = await self.get(scene_id, session=session)
            await self.support.lock_project(scene.project_id, session)
            forest = await self.support.forest(scene.project_id, session=session)
            doomed = forest.subtree(scene_id)
            clip_ids = await self.repos.clips.ids_for_scenes(doomed, session=session)
            if (len(doomed) > 1 or clip_ids) and not confirm:
                others = [forest.by_id[i] for i in doomed[1:]]
                subs = sum(not s.is_alternate for s in others)
                raise InvalidStateError(
                    f"deleting scene {scene_id} would also delete {subs} sub-scene(s), {len(others) - subs} "
                    f"alternate(s) and {len(clip_ids)} clip(s)" + (f"; scenes: {describe(others)}" if others else ""),
                    hint="call delete_scene again with confirm: true to delete them all",
                    code="confirmation-required",
                )
            await self.repos.scenes.delete_many(doomed, session=session)
            await self.repos.clips.delete_for_scenes(doomed, session=session)
            await self.repos.counters.delete([counter_key("scene", i) for i in doomed]
                                             + [counter_key("clip", i) for i in clip_ids], session=session)
            if not scene.is_alternate:
                rest = [s for s in forest.main_children(scene.parent_scene_id) if s.id != scene_id]
                await self.repos.scenes.set_orders(dense_orders(rest), session=session)
            return scene, doomed, clip_ids

        scene, doomed, clip_ids = await self.support.atomic(work)
        if not self.repos.database.capabilities.transactions:
            await self._sweep_under(doomed)
        if not scene.is_alternate:
            await self.support.settle(scene.project_id, scene.parent_scene_id)
        return SceneDeletion(scene_id=scene_id, project_id=scene.project_id, deleted_scene_ids=doomed,
                             deleted_clip_count=len(clip_ids))

    async def _sweep_under(self, deleted: list[str]) -> None:
        # Without transactions, a sub-scene or alternate created under a deleted scene after the delete read the
        # subtree passed its parent re-check before the parent went (services/common/parents.py): remove those, level by
        # level, with their clips (a clip's re-check comes after its insert, so clips deleted after their scene
        # are caught by the delete itself).
        level = deleted
        while level:
            level = await self.repos.scenes.ids_under(level)
            await self.repos.scenes.delete_many(level)
            await self.repos.clips.delete_for_scenes(level)

    async def reorder(
        self, project_id: str, scene_ids: list[str], *, parent_scene_id: str | None = None
    ) -> SiblingOrder:
        """Put the main scenes of one (project, parent) in the given order; orders become 0..n-1.

        Raises:
            NotFoundError: no such project.
            InvalidStateError: code ``invalid-parent``, the parent is not a main scene of the project.
            ValidationError: ``scene_ids`` is not exactly the current siblings (names missing/extra/repeated ids).
        """

        async def work(session: Session) -> list[Scene]:
            await self.support.require_project(project_id, session=session)
            await self.support.lock_project(project_id, session)
            forest = await self.support.forest(project_id, session=session)
            where = f"the top level of project {project_id}"
            if parent_scene_id is not None:
                parent = forest.by_id.get(parent_scene_id)
                if parent is None or parent.is_alternate:
                    raise InvalidStateError(
                        f"parent_scene_id '{parent_scene_id}' is not a main scene of project {project_id}",
                        hint=f"main scenes of project {project_id}: {describe(forest.main_scenes())}; "
                        "omit it for the top level",
                        code="invalid-parent",
                    )
                where = f"scene {parent_scene_id}"
            check_full_list(scene_ids, forest.main_children(parent_scene_id), where=where)
            ordered = [forest.by_id[i] for i in scene_ids]
            await self.repos.scenes.set_orders(dense_orders(ordered), session=session)
            return ordered

        ordered = await self.support.atomic(work)
        refs = [SceneRef(id=s.id, name=s.name, order=i) for i, s in enumerate(ordered)]
        return SiblingOrder(project_id=project_id, parent_scene_id=parent_scene_id, scenes=refs)

    async def move(
        self, scene_id: str, *, parent_scene_id: str | None = None, to_top_level: bool = False,
        position: int | None = None,
    ) -> Scene:
        """Move a main scene under another parent (or to the top level) and/or to a position among its siblings.

        Without ``position`` the scene goes last. Its sub-scenes and alternates come with it.

        Raises:
            ValidationError: nothing to do, ``top_level`` with ``parent_scene_id``, or ``position`` out of range.
            NotFoundError: no such scene.
            InvalidStateError: code ``invalid-parent`` for an alternate, a cycle, another project or depth > 5.
        """
        if parent_scene_id is not None and to_top_level:
            raise ValidationError("top_level", "cannot be combined with parent_scene_id",
                                  hint="give parent_scene_id to nest the scene, or top_level: true to un-nest it")
        if parent_scene_id is None and not to_top_level and position is None:
            raise ValidationError("parent_scene_id", "nothing to move",
                                  hint="give parent_scene_id, top_level: true, or a position")

        async def work(session: Session) -> tuple[Scene, str | None, str | None]:
            scene = await self.get(scene_id, session=session)
            if scene.is_alternate:
                raise InvalidStateError(
                    f"scene {scene_id} is an alternate of scene {scene.parent_scene_id}; alternates move with it",
                    hint=f"move scene {scene.parent_scene_id} instead, or promote_alternate {scene_id} first",
                    code="invalid-parent",
                )
            await self.support.lock_project(scene.project_id, session)
            forest = await self.support.forest(scene.project_id, session=session)
            old_parent = scene.parent_scene_id
            new_parent = None if to_top_level else (parent_scene_id or old_parent)
            if new_parent is not None and new_parent != old_parent:
                check_parent(forest, new_parent, project_id=scene.project_id, moving=scene_id)
            old_siblings = [s for s in forest.main_children(old_parent) if s.id != scene_id]
            if new_parent == old_parent:
                index = check_position(position, len(old_siblings))
                writes = dense_orders([*old_siblings[:index], scene, *old_siblings[index:]])
            else:
                new_siblings = forest.main_children(new_parent)
                index = check_position(position, len(new_siblings))
                moved = scene.model_copy(update={"order": index})
                joined = [*new_siblings[:index], moved, *new_siblings[index:]]
                writes = dense_orders(old_siblings) + dense_orders(joined)
                await self.repos.scenes.update_fields(scene_id, {"parent_scene_id": new_parent, "order": index},
                                                      session=session)
            await self.repos.scenes.set_orders(writes, session=session)
            return scene, old_parent, new_parent

        scene, old_parent, new_parent = await self.support.atomic(work)
        for parent in dict.fromkeys([old_parent, new_parent]):
            await self.support.settle(scene.project_id, parent)
        return await self.get(scene_id)
