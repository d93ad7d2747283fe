"""The server answers ``initialize`` and ``tools/list`` while its services still open (the embedded daemon boots,
migrations and indexes are checked); a request that needs the database waits for them; a failure to open ends the
server with its error. The open itself waits to be asked: a request that needs the services, the answer to
``tools/list``, or a timer (``server/scope.py``). (Start-up figures: tests/benchmarks/bench_startup.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_storyboard.errors import ConfigError
from mcp_storyboard.server import scope
from mcp_storyboard.server.build import build_server
from mcp_storyboard.services.container import Services
from tests.conftest import open_test_database


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools_are_listed_before_the_services_open_and_calls_wait_for_them(
    mode: str, request: pytest.FixtureRequest
) -> None:
    database = await open_test_database("memory", request)
    may_open = anyio.Event()
    opened: list[str] = []

    @asynccontextmanager
    async def slow_services() -> AsyncIterator[Services]:
        await may_open.wait()  # the database is still booting
        opened.append("services")
        yield Services.over(database)

    async with Client(build_server(slow_services), mode=mode) as client:  # type: ignore[arg-type]
        listed = await client.list_tools()  # answered while the services are not open
        assert "list_projects" in {tool.name for tool in listed.tools} and opened == []

        results: list[object] = []

        async def call() -> None:
            results.append(await client.call_tool("list_projects", {}))

        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            await anyio.sleep(0.2)
            assert results == []  # the call waits for the database
            may_open.set()
        (result,) = results
        assert not getattr(result, "is_error") and opened == ["services"]
        assert getattr(result, "structured_content")["items"] == []
    await database.close()


async def test_a_failure_to_open_ends_the_server_with_its_error() -> None:
    @asynccontextmanager
    async def broken() -> AsyncIterator[Services]:
        await anyio.sleep(0.1)
        raise ConfigError("MONGODB_URI names no host")
        yield  # pragma: no cover

    with pytest.raises(BaseException) as ended:  # noqa: PT011  (an exception group from the server's task group)
        with anyio.fail_after(60):
            async with Client(build_server(broken)) as client:
                await client.list_tools()
                await client.call_tool("list_projects", {})
    assert "MONGODB_URI names no host" in repr(ended.value) or any(
        "MONGODB_URI names no host" in str(e) for e in getattr(ended.value, "exceptions", [])
    )


class Recorded:
    """A services factory over memory:// that records when it is entered (the open started)."""

    def __init__(self, database: Any) -> None:
        self.database = database
        self.entered = anyio.Event()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Services]:
        self.entered.set()
        yield Services.over(self.database)


@pytest.fixture
def no_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The open waits for a reason only: its timer (scope.OPEN_AFTER_S) never runs out within a test."""
    monkeypatch.setattr(scope, "OPEN_AFTER_S", 3600.0)


@pytest.mark.usefixtures("no_timer")
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_services_open_once_tools_list_is_answered_not_before(
    mode: str, request: pytest.FixtureRequest
) -> None:
    factory = Recorded(await open_test_database("memory", request))
    async with Client(build_server(factory), mode=mode) as client:  # type: ignore[arg-type]
        await client.list_prompts()
        await client.list_resource_templates()
        assert not factory.entered.is_set()  # the handshake and these lists need no database
        await client.list_tools()
        with anyio.fail_after(10):
            await factory.entered.wait()  # no call came: the answer to tools/list started the open


@pytest.mark.usefixtures("no_timer")
async def test_a_call_before_any_list_opens_the_services_at_once(request: pytest.FixtureRequest) -> None:
    factory = Recorded(await open_test_database("memory", request))
    async with Client(build_server(factory)) as client:  # type: ignore[arg-type]
        assert not factory.entered.is_set()
        with anyio.fail_after(10):  # the open waits for nothing else (its timer is an hour)
            result = await client.call_tool("list_projects", {})
    assert not result.is_error and result.structured_content == {"items": [], "next_cursor": None}


async def test_a_server_nobody_asks_opens_its_services_after_a_while(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setattr(scope, "OPEN_AFTER_S", 0.05)  # an HTTP server with no request yet, a client that never lists
    factory = Recorded(await open_test_database("memory", request))
    async with Client(build_server(factory)):  # type: ignore[arg-type]
        with anyio.fail_after(10):
            await factory.entered.wait()


@pytest.mark.usefixtures("no_timer")
async def test_a_client_that_leaves_before_anything_needs_the_database_opens_nothing(
    request: pytest.FixtureRequest,
) -> None:
    factory = Recorded(await open_test_database("memory", request))
    with anyio.fail_after(10):
        async with Client(build_server(factory)) as client:  # type: ignore[arg-type]
            await client.list_prompts()
    assert not factory.entered.is_set()


@pytest.mark.usefixtures("no_timer")
async def test_a_server_with_work_of_its_own_opens_its_services_as_it_starts(request: pytest.FixtureRequest) -> None:
    factory = Recorded(await open_test_database("memory", request))
    # serve --worker: the worker runs queued jobs whether or not a client asks
    async with Client(build_server(factory, open_at_start=True)):  # type: ignore[arg-type]
        with anyio.fail_after(10):
            await factory.entered.wait()


class Counted:
    """A services factory that counts its opens and takes a moment to open, as a booting database does."""

    def __init__(self, database: Any) -> None:
        self.database = database
        self.opens = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Services]:
        self.opens += 1
        await anyio.sleep(0.05)
        yield Services.over(self.database)


@pytest.mark.usefixtures("no_timer")
async def test_parallel_first_calls_open_the_services_once_and_each_gets_its_own_answer(
    request: pytest.FixtureRequest,
) -> None:
    """A host sends several calls at once, before any list: one open, every call answered from what it stored."""
    database = await open_test_database("embedded-pymongo", request)
    try:
        for round_ in range(5):  # rounds, each a new server over the same embedded database
            factory = Counted(database)
            created: dict[str, str] = {}
            async with Client(build_server(factory)) as client:  # type: ignore[arg-type]

                async def create(name: str) -> None:
                    result = await client.call_tool("create_project", {"name": name})
                    assert not result.is_error, result
                    created[name] = result.structured_content["id"]  # type: ignore[index]

                with anyio.fail_after(30):
                    async with anyio.create_task_group() as group:
                        for number in range(12):
                            group.start_soon(create, f"round {round_} project {number}")
                for name, project_id in created.items():
                    stored = await client.call_tool("get_project", {"project_id": project_id})
                    assert stored.structured_content["name"] == name  # type: ignore[index]
            assert factory.opens == 1 and len(created) == 12
    finally:
        await database.client.drop_database(database.db.name)
        await database.close()
