"""Creates under a parent that cannot outlive it: a create conflicts with the parent's delete.

With transactions, the create writes the parent document (``updated_at``) in its own transaction, so a concurrent
delete of that parent and the create cannot both commit: one of them is aborted with a
``TransientTransactionError`` and ``Database.run_transaction`` runs it again, when it sees the parent gone (a
read alone would not conflict: measured on the embedded server, 20 rounds of 8 creates racing a delete left 160
orphans with a read and 0 with a write). The same write serialises the creates under one parent, so a create may
compute sibling orders from what it reads. Without transactions (a standalone ``mongod``; memory:// never
interleaves) the create re-checks its parents after the insert and removes what it inserted if one is gone; the
deletes do their part by removing the parent before sweeping its children again (``ProjectService.delete``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, Protocol, TypeVar

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import NotFoundError

T = TypeVar("T")
Session = Any


class Parent(Protocol):
    """What the guard needs of the parent's repository."""

    kind: ClassVar[str]

    async def touch(self, key: str, *, session: Session = None) -> bool: ...

    async def exists(self, key: str, *, session: Session = None) -> bool: ...


async def create_under(
    database: Database,
    parent: Parent,
    parent_id: str,
    work: Callable[[Session], Awaitable[T]],
    undo: Callable[[T], Awaitable[None]],
    *,
    hint: str | None = None,
    also: Sequence[tuple[Parent, str]] = (),
) -> T:
    """Run ``work(session)`` (the create) so that it commits only while ``parent_id`` (and each of ``also``)
    exists.

    ``work`` does every read and write with ``session`` and may run more than once; ``undo(result)`` removes what
    it wrote and is used only where the backend has no transactions. ``also`` names further parents (a nested
    scene's parent scene, an alternate clip's original): they are written too, but a missing one is left for
    ``work`` to refuse with its own, more precise error (``invalid-parent``, ``alternate-not-found``).

    Raises:
        NotFoundError: the parent does not exist (or was deleted while the create ran; nothing is left behind).
    """
    gone = NotFoundError(parent.kind, parent_id, hint=hint)
    if database.capabilities.transactions:

        async def guarded(session: Session) -> T:
            if not await parent.touch(parent_id, session=session):
                raise gone
            for other, other_id in also:
                await other.touch(other_id, session=session)
            return await work(session)

        return await database.run_transaction(guarded)
    if not await parent.exists(parent_id):
        raise gone
    result = await work(None)
    missing = [(p.kind, key) for p, key in [(parent, parent_id), *also] if not await p.exists(key)]
    if missing:
        await undo(result)
        kind, key = missing[0]
        raise gone if key == parent_id else NotFoundError(kind, key, hint=hint)
    return result
