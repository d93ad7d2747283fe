"""The small shim over the API differences between PyMongo async, Motor and mongomock-motor.

Everything else uses the shared collection API (find, find_one_and_update, insert_one, ...) directly;
only the calls below differ: PyMongo async awaits ``aggregate``/``list_indexes``/``start_transaction``,
Motor and mongomock-motor return cursors directly, and Motor awaits ``start_session``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio

logger = logging.getLogger("mcp_storyboard.db")
CLOSE_TIMEOUT_S = 2.0
"""How long closing a change stream may take (a dead server must not hold up a shutdown)."""
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


@asynccontextmanager
async def watch(collection: Any, pipeline: Sequence[Mapping[str, Any]], **options: Any) -> AsyncIterator[Any]:
    """A change stream on ``collection``, open for the block and closed after it, also when cancelled.

    PyMongo async opens the stream when ``watch`` is awaited, Motor when the stream is entered (before that its
    ``resume_token`` is not there).
    """
    stream = await _maybe_await(collection.watch(list(pipeline), **options))
    await stream.__aenter__()
    try:
        yield stream
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(CLOSE_TIMEOUT_S):
            try:
                await stream.close()
            except Exception:
                logger.debug("closing a change stream failed", exc_info=True)


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
