"""What every scene operation needs, composed into the scene service and its alternates helper: lookups with
helpful errors, retried transactions, creates under a parent, order settling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from mcp_storyboard.errors import NotFoundError
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.repositories.base import Session
from mcp_storyboard.services.common.parents import create_under
from mcp_storyboard.services.scenes.rules import SceneForest, dense_orders

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories

T = TypeVar("T")
_SETTLE_ROUNDS = 20
LIST_HINT = "call list_scenes with the project id (or get_project_tree) to see the scene ids"
PROJECT_HINT = "call list_projects to see the project ids"


class SceneSupport:
    """What every scene operation needs: the repositories, scene lookups, transactions and order settling.
    Shared (one instance) by :class:`SceneService` and :class:`SceneAlternates`."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos

    async def get(self, scene_id: str, *, session: Session = None) -> Scene:
        """One scene.

        Raises:
            NotFoundError: no such scene.
        """
        scene = await self.repos.scenes.find(scene_id, session=session)
        if scene is None:
            raise NotFoundError("scene", scene_id, hint=LIST_HINT)
        return scene

    async def atomic(self, work: Callable[[Session], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction (sessionless on memory://), retried when the server says the
        transaction collided with a concurrent one (a ``TransientTransactionError``); ``work`` validates before
        it writes, so a refusal leaves nothing behind on any backend."""
        return await self.repos.database.run_transaction(work)

    async def create_in(
        self,
        project_id: str,
        work: Callable[[Session], Awaitable[T]],
        undo: Callable[[T], Awaitable[None]],
        *,
        parent_scene_id: str | None = None,
    ) -> T:
        """Run a create under the project (and under ``parent_scene_id``) so it cannot outlive them; see
        ``services/common/parents.py``. Writing the project also serialises it with every other change to the project's
        scene lists (:meth:`lock_project`), so the orders it computes are the ones stored."""
        also = [(self.repos.scenes, parent_scene_id)] if parent_scene_id is not None else []
        return await create_under(self.repos.database, self.repos.projects, project_id, work, undo,
                                  hint=PROJECT_HINT, also=also)

    async def lock_project(self, project_id: str, session: Session) -> None:
        # Inside a transaction, writing the project makes two changes to its scene lists conflict (one is retried
        # from the start), so each computes dense orders from a list no one else is changing.
        if session is not None:
            await self.repos.projects.touch(project_id, session=session)

    async def require_project(self, project_id: str, *, session: Session = None) -> None:
        if not await self.repos.projects.exists(project_id, session=session):
            raise NotFoundError("project", project_id, hint=PROJECT_HINT)

    async def forest(self, project_id: str, *, session: Session = None) -> SceneForest:
        return SceneForest(await self.repos.scenes.list_for_project(project_id, session=session))

    async def original(self, scene: Scene) -> Scene:
        if not scene.is_alternate or scene.parent_scene_id is None:
            return scene
        return await self.get(scene.parent_scene_id)

    async def settle(self, project_id: str, parent_scene_id: str | None) -> None:
        if self.repos.database.capabilities.transactions:
            return  # every change to a sibling list held the project's lock: the list is dense already
        # Without transactions, concurrent writers may each have taken the same slot (or left a gap). Each
        # re-densifies by (order, id) after its own write and stops only when a read shows the list dense; the last
        # of those reads comes after every writer's last write, so the list ends dense whatever the interleaving.
        for _ in range(_SETTLE_ROUNDS):
            writes = dense_orders(await self.repos.scenes.siblings(project_id, parent_scene_id))
            if not writes:
                return
            await self.repos.scenes.set_orders(writes)
