"""Backends for the whole suite: every database test runs on memory://, embedded + PyMongo async and
embedded + Motor. One embedded server serves the session; each test gets its own database, dropped after."""

from __future__ import annotations

import inspect
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import Database, open_database
from mcp_storyboard.db.indexes import ensure_indexes

BACKENDS = ("memory", "embedded-pymongo", "embedded-motor")


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    # Every coroutine test runs under anyio (asyncio); marked before parametrization, so no per-test marker.
    if name.startswith("test") and inspect.iscoroutinefunction(obj):
        pytest.mark.anyio(obj)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def embedded_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SecantusDB server for the whole session (or MONGODB_TEST_URI, to run the suite on real MongoDB)."""
    if os.environ.get("MONGODB_TEST_URI"):
        yield os.environ["MONGODB_TEST_URI"]
        return
    from mcp_storyboard.db.embedded import EmbeddedServer

    server = EmbeddedServer(tmp_path_factory.mktemp("embedded"))
    try:
        yield server.start()
    finally:
        server.stop()


async def open_test_database(backend: str, request: pytest.FixtureRequest) -> Database:
    db_name = f"t_{uuid.uuid4().hex[:12]}"
    if backend == "memory":
        return await open_database(Settings(mongodb_uri="memory://", db_name=db_name))
    uri = request.getfixturevalue("embedded_uri")
    driver = backend.split("-", 1)[1]
    settings = Settings(mongodb_uri=uri, db_name=db_name, driver=driver, data_dir=Path("/nonexistent"))  # type: ignore[arg-type]
    return await open_database(settings, uri=uri, backend="embedded")


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A fresh, empty database on each backend; capability marks skip the memory:// leg with the reason."""
    backend: str = request.param
    if backend == "memory":
        for mark, capability in (("requires_transactions", "transactions"), ("requires_gridfs", "GridFS"),
                                 ("requires_change_streams", "change streams")):
            if request.node.get_closest_marker(mark):
                pytest.skip(f"memory:// (mongomock) has no {capability}")
    db = await open_test_database(backend, request)
    try:
        yield db
    finally:
        if db.backend != "memory":
            await db.client.drop_database(db.db.name)
        await db.close()


@pytest.fixture
async def db(database: Database) -> AsyncIterator[Database]:
    """The backend's database with every index in place (unique violations need them)."""
    await ensure_indexes(database)
    yield database
