"""The server answers ``initialize`` and ``tools/list`` while its services still open (the embedded daemon boots,
migrations and indexes are checked); a request that needs the database waits for them; a failure to open ends the
server with its error. (Start-up figures: tests/benchmarks/bench_startup.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest
from mcp import Client

from mcp_storyboard.errors import ConfigError
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
