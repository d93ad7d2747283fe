"""The small shim over the API differences between PyMongo async, Motor and mongomock-motor.

Everything else uses the shared collection API (find, find_one_and_update, insert_one, ...) directly;
only the calls below differ: PyMongo async awaits ``aggregate``/``list_indexes``/``start_transaction``,
Motor and mongomock-motor return cursors directly, and Motor awaits ``start_session``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

DriverName = Literal["pymongo", "motor", "mongomock"]
Session = Any
"""A driver session (``AsyncClientSession`` or Motor's); None where the backend has none."""


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def aggregate(
    collection: Any, pipeline: Sequence[Mapping[str, Any]], *, session: Session = None
) -> list[dict[str, Any]]:
    """Run an aggregation and return all its documents."""
    kwargs = {"session": session} if session is not None else {}
    cursor = await _maybe_await(collection.aggregate(list(pipeline), **kwargs))
    return list(await cursor.to_list(None))


async def list_indexes(collection: Any) -> list[dict[str, Any]]:
    """The collection's indexes as plain dicts (name, key, unique, ...)."""
    cursor = await _maybe_await(collection.list_indexes())
    return [dict(ix) for ix in await cursor.to_list(None)]


async def watch(collection: Any, pipeline: Sequence[Mapping[str, Any]], **options: Any) -> Any:
    """Open a change stream on ``collection`` (PyMongo async awaits ``watch``, Motor returns the stream)."""
    return await _maybe_await(collection.watch(list(pipeline), **options))


@asynccontextmanager
async def transaction(client: Any, enabled: bool) -> AsyncIterator[Session]:
    """A session with a running transaction, committed on exit and aborted on error.

    Yields None where the backend has no transactions (memory://): callers pass the session
    through unchanged, and the writes run one by one.
    """
    if not enabled:
        yield None
        return
    session = await _maybe_await(client.start_session())
    try:
        txn = await _maybe_await(session.start_transaction())
        async with txn:
            yield session
    finally:
        await _maybe_await(session.end_session())
