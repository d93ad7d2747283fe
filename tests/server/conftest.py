"""An example toolset over a stub services container, and a client connected to a server built from it.

The toolset is declared exactly as a module under ``server/tools/`` would declare one; the container is a plain
dataclass, so these tests need no database.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from pydantic import BaseModel, Field

from mcp_storyboard.errors import InvalidStateError, NotFoundError
from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.completions import CompletionRegistry
from mcp_storyboard.server.confirmation import ConfirmArg
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.prompts import load_prompts
from mcp_storyboard.server.registry import ToolRegistry, collect, get_services
from mcp_storyboard.server.scope import current_services


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Thing(BaseModel):
    id: str
    name: str = Field(max_length=10)


class ThingPage(BaseModel):
    items: list[Thing]


class Deleted(BaseModel):
    id: str
    deleted: bool


@dataclass
class StubServices:
    things: dict[str, Thing] = field(default_factory=lambda: {"t1": Thing(id="t1", name="lamp")})
    opened: int = 0
    closed: int = 0


ThingId = Annotated[str, Field(min_length=1, max_length=64, description="The thing's id, as returned by the tools")]

storyboard = ToolRegistry("storyboard")
characters = ToolRegistry("characters")
users = ToolRegistry("users")
complete = CompletionRegistry()


@storyboard(title="Get a thing", operation="read")
async def get_thing(thing_id: ThingId, ctx: Context) -> Thing:
    """One thing by id."""
    services: StubServices = get_services(ctx)  # type: ignore[assignment]
    if thing_id == "boom":
        raise RuntimeError("driver said: secret-host:27017 refused the connection")
    thing = services.things.get(thing_id)
    if thing is None:
        raise NotFoundError("thing", thing_id, hint="things: " + ", ".join(sorted(services.things)))
    return thing


@storyboard(title="Rename a thing", operation="update")
async def rename_thing(thing_id: ThingId, name: str, ctx: Context) -> Thing:
    """Give a thing a new name (at most 10 characters, checked by the service)."""
    services: StubServices = get_services(ctx)  # type: ignore[assignment]
    thing = Thing.model_validate({"id": thing_id, "name": name})  # a service-level model validation
    services.things[thing_id] = thing
    await notify_changed(ctx, [f"storyboard://things/{thing_id}", f"storyboard://things/{thing_id}"])
    return thing


@storyboard(title="Delete a thing", operation="delete")
async def delete_thing(thing_id: ThingId, ctx: Context, confirm: ConfirmArg = False) -> Deleted:
    """Delete a thing (the confirmation gate asks first); thing "busy" is in use."""
    if thing_id == "busy":
        raise InvalidStateError("thing 'busy' is in use", hint="call again when it is free", code="conflict")
    services: StubServices = get_services(ctx)  # type: ignore[assignment]
    services.things.pop(thing_id, None)
    return Deleted(id=thing_id, deleted=True)


@storyboard(title="List many things", operation="read")
async def list_many_things(count: Annotated[int, Field(ge=0, le=100_000)], ctx: Context) -> ThingPage:
    """As many generated things as asked for (to exercise the result cap)."""
    return ThingPage(items=[Thing(id=f"thing-{i:06d}", name="x" * 10) for i in range(count)])


@characters(title="Set a character mood", operation="update", idempotent=True, destructive=True)
async def set_character_mood(character_id: str, mood: str, ctx: Context, confirm: ConfirmArg = False) -> Thing:
    """Overwrite a character's mood."""
    return Thing(id=character_id, name=mood[:10])


@users(title="List users", operation="read")
async def list_users(ctx: Context) -> ThingPage:
    """Every user."""
    return ThingPage(items=[])


def install_thing_resources(server: MCPServer[Any]) -> None:
    """Example resources: a template reading services through its ``ctx``, a static one through the scope."""

    @server.resource("storyboard://things/{thing_id}", title="Thing", mime_type="application/json")
    async def thing_resource(thing_id: str, ctx: Context) -> str:
        """One thing as JSON."""
        services: StubServices = get_services(ctx)  # type: ignore[assignment]
        if thing_id == "boom":
            raise RuntimeError("driver said: secret-host:27017 refused the connection")
        thing = services.things.get(thing_id)
        if thing is None:
            raise ResourceNotFoundError(f"[not-found] thing '{thing_id}' does not exist")
        return thing.model_dump_json()

    @server.resource("storyboard://things", title="Things", mime_type="text/plain")
    async def things_resource() -> str:
        """Every thing id, one a line."""
        services: StubServices = current_services()  # type: ignore[assignment]
        return "\n".join(sorted(services.things))


@complete(argument="thing_id", template="storyboard://things/{thing_id}")
async def complete_thing_id(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    return [t for t in sorted(services.things) if t.startswith(value)]


@complete(argument="project_id", prompt="*")
async def complete_project_id(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    ids = [f"p{i:03d}" for i in range(150)] + list(services.things)
    return [i for i in ids if i.startswith(value)]


@complete(argument="clip_id", prompt="write_clip_prompts")
async def complete_clip_id(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    return ["c1", "c2", "c1"]


EXAMPLE = collect([sys.modules[__name__]])


def services_factory(counter: StubServices | None = None) -> Callable[[], AbstractAsyncContextManager[StubServices]]:
    """A factory that yields ``counter`` (or a fresh container) and counts opens and closes."""

    @asynccontextmanager
    async def open_services() -> AsyncIterator[StubServices]:
        services = counter if counter is not None else StubServices()
        services.opened += 1
        try:
            yield services
        finally:
            services.closed += 1

    return open_services


def example_server(services: StubServices | None = None, **options: Any) -> MCPServer[Any]:
    """A server over the example toolset, its resources and completers, and the real prompt files."""
    options.setdefault("specs", EXAMPLE.tools)
    options.setdefault("completers", EXAMPLE.completers)
    options.setdefault("installers", [install_thing_resources])
    options.setdefault("prompts", load_prompts())
    return build_server(services_factory(services), **options)


@pytest.fixture(params=["auto", "legacy"])
def mode(request: pytest.FixtureRequest) -> str:
    """Both protocol eras: 2026-07-28 through the direct dispatcher, 2025-11-25 with the handshake."""
    return str(request.param)


@pytest.fixture
def connect(mode: str) -> Callable[..., Client]:
    """``connect(server)`` → an unentered ``Client`` in this test's mode, without response caching."""

    def make(server: MCPServer[Any], **kwargs: Any) -> Client:
        return Client(server, mode=mode, cache=None, **kwargs)

    return make


@asynccontextmanager
async def served_over_http(server: MCPServer[Any]) -> AsyncIterator[str]:
    """The URL of ``server`` served over Streamable HTTP on a free loopback port (stopped on exit)."""
    from mcp_storyboard.server import app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    http = app.http_server(server, "127.0.0.1", port)
    async with anyio.create_task_group() as group:
        group.start_soon(http.serve, [sock])
        with anyio.fail_after(10):
            while not http.started:
                await anyio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            http.should_exit = True
