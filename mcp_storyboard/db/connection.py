"""One ``connect()`` for the three backends: a MongoDB URI, the embedded server, and ``memory://``."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio
from pymongo.errors import PyMongoError

from mcp_storyboard.config import Settings, redact_uri
from mcp_storyboard.db import driver as shim
from mcp_storyboard.db.media import GridFSMediaStore, MediaStore, MemoryMediaStore
from mcp_storyboard.db.memory import MemoryDatabase
from mcp_storyboard.errors import ConfigError, ConflictError

if TYPE_CHECKING:
    from mcp_storyboard.db.embedded import EmbeddedServer

Backend = Literal["memory", "embedded", "mongodb"]
T = TypeVar("T")
TRANSACTION_BUDGET_SECONDS = 30.0
"""How long a transaction is retried on conflicts (the drivers' own ``with_transaction`` allows 120 s)."""
TRANSACTION_BACKOFF_CAP = 0.1


@dataclass(frozen=True)
class Capabilities:
    """What the backend can do; tests skip, and services fall back, on what is missing."""

    transactions: bool
    change_streams: bool = False
    """``watch()`` works: other processes' writes can be followed (``repositories/job_changes.py``)."""

    @classmethod
    def for_backend(cls, backend: Backend, *, replica_set: bool) -> Capabilities:
        if backend == "memory":
            return cls(transactions=False)
        # Transactions and change streams need a replica set (the embedded server advertises one).
        return cls(transactions=replica_set, change_streams=replica_set)


@dataclass
class Database:
    """A connected database: the driver handles plus the shim calls that differ between drivers."""

    client: Any
    db: Any
    backend: Backend
    driver: shim.DriverName
    capabilities: Capabilities
    media: MediaStore
    uri_for_display: str
    _closers: list[Any] = field(default_factory=list)
    read_only: bool = False
    """Writes are refused (``db/read_only.py``: ``read_only_view``)."""
    owner_scoped: bool = False
    """Each request sees only what its caller owns (``db/owner_scope.py``: ``owner_scoped_view``)."""
    unrestricted: Database | None = None
    """For a read-only or owner-scoped view, the database it views."""

    @property
    def bookkeeping(self) -> Database:
        """Where the server's own bookkeeping is written even when it serves read-only: API tokens' last use and
        the rate limits' call counts (no user data)."""
        return self.unrestricted or self

    def collection(self, name: str) -> Any:
        return self.db[name]

    async def aggregate(self, collection: str, pipeline: Sequence[Mapping[str, Any]], *, session: Any = None) -> list[dict[str, Any]]:
        return await shim.aggregate(self.db[collection], pipeline, session=session)

    async def list_indexes(self, collection: str) -> list[dict[str, Any]]:
        return await shim.list_indexes(self.db[collection])

    def transaction(self) -> Any:
        """``async with database.transaction() as session:`` — session is None on memory://."""
        return shim.transaction(self.client, self.capabilities.transactions)

    async def run_transaction(
        self, work: Callable[[Any], Awaitable[T]], *, budget_seconds: float = TRANSACTION_BUDGET_SECONDS
    ) -> T:
        """Run ``work(session)`` in one transaction, again from the start when the server aborts it for a
        conflict with a concurrent transaction (``TransientTransactionError``), with jittered backoff, for as long
        as ``budget_seconds`` allows.

        A budget of time, not of attempts: creates under one parent write it and so commit one at a time, and
        the last of n parallel ones waits for the n-1 before it however its attempts are counted (measured on
        the embedded server: 64 parallel creates under one project or scene took 2.4-5.4 s and up to 44 attempts;
        ``tests/benchmarks/bench_races.py``).
        ``work`` must do every read and write with ``session`` and may run more than once. On memory:// it
        runs once with ``session`` None (no transactions there).

        Raises:
            ConflictError: every attempt within the budget collided with concurrent changes.
        """
        deadline = anyio.current_time() + budget_seconds
        attempt = 0
        while True:
            try:
                async with self.transaction() as session:
                    return await work(session)
            except PyMongoError as exc:
                if not exc.has_error_label("TransientTransactionError"):
                    raise
            attempt += 1
            pause = random.uniform(0, min(TRANSACTION_BACKOFF_CAP, 0.005 * 2 ** min(attempt, 10)))
            if anyio.current_time() + pause > deadline:
                raise ConflictError(f"the change kept colliding with concurrent changes ({attempt} attempts) and "
                                    "was not applied", hint="retry the call")
            await anyio.sleep(pause)

    async def server_version(self) -> str:
        if self.backend == "memory":
            return "mongomock"
        info = await self.db.command("buildInfo")
        version = str(info.get("version", "unknown"))
        if "secantusVersion" in info:
            version += f" (SecantusDB {info['secantusVersion']})"
        return version

    async def close(self) -> None:
        for closer in reversed(self._closers):
            result = closer()
            if hasattr(result, "__await__"):
                await result
        self._closers.clear()


def _import_mongomock() -> Any:
    try:
        from mongomock_motor import AsyncMongoMockClient
    except ImportError:
        raise ConfigError(
            "memory:// needs mongomock-motor, which is not installed",
            hint="pip install 'mcp-storyboard[test]', or set MONGODB_URI to a real database",
        ) from None
    return AsyncMongoMockClient


def _make_client(uri: str, driver: str, timeout_ms: int) -> Any:
    options: dict[str, Any] = {"tz_aware": True, "serverSelectionTimeoutMS": timeout_ms, "uuidRepresentation": "standard"}
    if driver == "motor":
        from motor.motor_asyncio import AsyncIOMotorClient

        return AsyncIOMotorClient(uri, **options)
    from pymongo import AsyncMongoClient

    return AsyncMongoClient(uri, **options)


def _make_bucket(db: Any, driver: str) -> Any:
    if driver == "motor":
        from motor.motor_asyncio import AsyncIOMotorGridFSBucket

        return AsyncIOMotorGridFSBucket(db, bucket_name="media")
    from gridfs import AsyncGridFSBucket

    return AsyncGridFSBucket(db, bucket_name="media")


async def _ping(client: Any, display_uri: str) -> dict[str, Any]:
    from pymongo.errors import ConfigurationError, OperationFailure, PyMongoError

    try:
        return dict(await client.admin.command("hello"))
    except OperationFailure as exc:
        raise ConfigError(
            f"the database at {display_uri} refused the connection ({exc.code}: authentication or permissions)",
            hint="check the user and password in MONGODB_URI",
        ) from None
    except (ConfigurationError, PyMongoError) as exc:
        raise ConfigError(
            f"cannot reach the database at {display_uri} ({type(exc).__name__})",
            hint="start MongoDB or fix MONGODB_URI; unset MONGODB_URI to use the embedded database",
        ) from None


async def open_database(settings: Settings, *, uri: str | None = None, backend: Backend | None = None) -> Database:
    """Connect to a wire-protocol server (``uri``) or to memory://; see :func:`connect`."""
    backend = backend or settings.backend
    uri = uri or settings.mongodb_uri
    if backend == "memory":
        client = _import_mongomock()(tz_aware=True)
        return Database(
            client=client,
            db=MemoryDatabase(client[settings.db_name]),  # mongomock answering as MongoDB does: db/memory.py
            backend="memory",
            driver="mongomock",
            capabilities=Capabilities.for_backend("memory", replica_set=False),
            media=MemoryMediaStore(max_bytes=settings.media_max_bytes),
            uri_for_display="memory://",
        )
    assert uri is not None
    display = redact_uri(uri)
    try:
        client = _make_client(uri, settings.driver, settings.server_timeout_ms)
    except Exception as exc:  # the driver parses the URI here; its message may echo credentials
        raise ConfigError(f"MONGODB_URI '{display}' is not usable ({type(exc).__name__})", hint="check its format") from None
    try:
        hello = await _ping(client, display)
    except BaseException:
        await shim._maybe_await(client.close())
        raise
    db = client[settings.db_name]
    return Database(
        client=client,
        db=db,
        backend=backend,
        driver=settings.driver,
        capabilities=Capabilities.for_backend(backend, replica_set=bool(hello.get("setName"))),
        media=GridFSMediaStore(db, _make_bucket(db, settings.driver), settings.media_max_bytes),
        uri_for_display=display,
        _closers=[client.close],
    )


@asynccontextmanager
async def connect(settings: Settings, *, embedded: EmbeddedServer | None = None) -> AsyncIterator[Database]:
    """Connect to the configured backend, closing (and releasing the embedded server) on exit.

    ``embedded``: the embedded server to use, perhaps already starting (``start_in_background()``); by default
    one for ``settings.data_dir``. On exit it is released with its ``stop()``.

    Raises:
        ConfigError: the database cannot be reached or started; the message says what to fix.
    """
    if settings.backend == "embedded":
        if embedded is None:
            from mcp_storyboard.db.embedded import EmbeddedServer

            embedded = EmbeddedServer(settings.data_dir)
        server = embedded
        uri = await anyio.to_thread.run_sync(server.start)
        release = server.stop
        try:
            database = await open_database(settings, uri=uri, backend="embedded")
        except BaseException:
            await anyio.to_thread.run_sync(release)
            raise
        database._closers.insert(0, lambda: anyio.to_thread.run_sync(release))
    else:
        database = await open_database(settings)
    try:
        yield database
    finally:
        with anyio.CancelScope(shield=True):
            await database.close()
