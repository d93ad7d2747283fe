"""Serialise the changes to a scene's clips: one transaction per change, retried when a concurrent one wins.

Snapshot isolation alone lets two transactions each move a different clip into the same free slot (neither
writes what the other read). So each transaction first writes its scenes' documents (``updated_at``, always moved forward:
``Repository.touch``): two
changes to one scene then conflict on that write, the loser's transaction is aborted with the driver's
``TransientTransactionError`` label, and it is run again from the start — where it now sees the winner's clip
and answers ``[clip-overlap]`` with a fresh suggestion. On memory:// (no transactions) the work runs once,
unserialised, write by write, and the scenes are not touched (a refused change writes nothing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from mcp_storyboard.errors import NotFoundError
from mcp_storyboard.services.common.clip_stats import recount_clips

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories

T = TypeVar("T")
Session = Any


async def in_scene_transaction(
    repos: Repositories, scene_ids: Iterable[str], work: Callable[[Session], Awaitable[T]]
) -> T:
    """Run ``work(session)`` in a transaction that holds the scenes' write locks, retrying transient conflicts.

    ``work`` must do all its reads and writes with ``session`` and may be run more than once; it raises domain
    errors to abort (nothing it wrote remains where the backend has transactions). After it, the scenes' stored
    clip numbers are recounted in the same transaction (``services/common/clip_stats.py``).

    Raises:
        NotFoundError: a scene does not exist.
        ConflictError: the scene kept changing under concurrent calls for every attempt (code ``conflict``).
    """
    scenes = sorted(set(scene_ids))

    async def locked(session: Session) -> T:
        if session is not None:  # without a transaction the lock serialises nothing: write nothing
            for scene_id in scenes:
                if not await repos.scenes.touch(scene_id, session=session):
                    raise NotFoundError("scene", scene_id, hint="see get_project_tree or list_scenes for a project's scenes")
        result = await work(session)
        await recount_clips(repos, scenes, session=session)  # the scenes' clip numbers, in the same transaction
        return result

    return await repos.database.run_transaction(locked)
