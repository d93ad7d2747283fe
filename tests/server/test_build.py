"""The built server through a real client in both protocol eras: selection, annotations, errors, limits, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult

from mcp_storyboard.server.errors import RESULT_LIMIT_BYTES

from .conftest import StubServices, example_server

pytestmark = pytest.mark.anyio

Connect = Callable[..., Client]


def text_of(result: CallToolResult) -> str:
    assert len(result.content) == 1
    return result.content[0].text  # type: ignore[union-attr]


async def test_tools_list_shows_the_default_toolsets_sorted_without_users(connect: Connect) -> None:
    async with connect(example_server()) as client:
        names = [t.name for t in (await client.list_tools()).tools]
    assert names == ["delete_thing", "get_thing", "list_many_things", "rename_thing", "set_character_mood"]


async def test_read_only_mode_lists_only_read_tools(connect: Connect) -> None:
    async with connect(example_server(read_only=True, toolsets={"storyboard", "characters", "users"})) as client:
        names = [t.name for t in (await client.list_tools()).tools]
    assert names == ["get_thing", "list_many_things", "list_users"]


async def test_toolset_selection_registers_only_the_chosen_toolsets(connect: Connect) -> None:
    async with connect(example_server(toolsets={"characters"})) as client:
        names = [t.name for t in (await client.list_tools()).tools]
    assert names == ["set_character_mood"]


async def test_a_filtered_out_tool_cannot_be_called(connect: Connect) -> None:
    async with connect(example_server(read_only=True)) as client:
        with pytest.raises(MCPError) as caught:
            await client.call_tool("delete_thing", {"thing_id": "t1", "confirm": True})
    assert caught.value.error.code == INVALID_PARAMS
    assert "delete_thing" in caught.value.error.message


async def test_annotations_come_from_the_operation_taxonomy(connect: Connect) -> None:
    async with connect(example_server()) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    hints = {
        name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint)
        for name, t in tools.items()
        if (a := t.annotations) is not None
    }
    assert hints == {
        "get_thing": (True, False, True, False),
        "list_many_things": (True, False, True, False),
        "rename_thing": (False, False, False, False),
        "delete_thing": (False, True, True, False),
        "set_character_mood": (False, True, True, False),
    }
    assert tools["get_thing"].title == "Get a thing"
    assert tools["get_thing"].description == "One thing by id."


async def test_input_schema_comes_from_the_signature_without_the_context(connect: Connect) -> None:
    async with connect(example_server()) as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "delete_thing")
    schema = tool.input_schema
    assert set(schema["properties"]) == {"thing_id", "confirm"}
    assert schema["required"] == ["thing_id"]
    assert schema["properties"]["thing_id"]["description"] == "The thing's id, as returned by the tools"
    assert tool.output_schema is not None and set(tool.output_schema["properties"]) == {"id", "deleted"}


async def test_a_read_tool_returns_structured_content_from_the_lifespan_services(connect: Connect) -> None:
    async with connect(example_server()) as client:
        result = await client.call_tool("get_thing", {"thing_id": "t1"})
    assert not result.is_error
    assert result.structured_content == {"id": "t1", "name": "lamp"}


async def test_a_domain_not_found_error_becomes_a_coded_tool_error(connect: Connect) -> None:
    async with connect(example_server()) as client:
        result = await client.call_tool("get_thing", {"thing_id": "t9"})
    assert result.is_error
    assert text_of(result) == "[not-found] thing 't9' does not exist. Things: t1"


async def test_a_domain_error_with_its_own_code_keeps_it(connect: Connect) -> None:
    async with connect(example_server()) as client:
        result = await client.call_tool("delete_thing", {"thing_id": "busy", "confirm": True})
    assert result.is_error
    assert text_of(result) == "[conflict] thing 'busy' is in use. Call again when it is free"


async def test_an_unexpected_exception_is_masked_and_logged_with_a_request_id(
    connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="mcp_storyboard.server"):
        async with connect(example_server()) as client:
            result = await client.call_tool("get_thing", {"thing_id": "boom"})
    assert result.is_error
    text = text_of(result)
    assert text.startswith("[internal] get_thing failed unexpectedly")
    assert "secret-host" not in text and "driver" not in text
    logged = [r for r in caplog.records if r.name == "mcp_storyboard.server" and r.exc_info]
    assert len(logged) == 1
    request_id = text.split("request id ")[1].split(")")[0]
    assert f"(request {request_id})" in logged[0].getMessage()
    assert logged[0].exc_info is not None and "secret-host" in str(logged[0].exc_info[1])


async def test_a_validation_error_raised_by_a_service_names_the_field(connect: Connect) -> None:
    async with connect(example_server()) as client:
        result = await client.call_tool("rename_thing", {"thing_id": "t1", "name": "far too long a name"})
    assert result.is_error
    assert text_of(result) == "[invalid-argument] name: String should have at most 10 characters"


async def test_arguments_that_fail_the_input_schema_give_an_invalid_argument_error(connect: Connect) -> None:
    async with connect(example_server()) as client:
        result = await client.call_tool("list_many_things", {"count": -1})
        wrong_type = await client.call_tool("get_thing", {"thing_id": {"$ne": None}})
        missing = await client.call_tool("get_thing", {})
    assert result.is_error and text_of(result) == "[invalid-argument] count: Input should be greater than or equal to 0"
    assert wrong_type.is_error and text_of(wrong_type) == "[invalid-argument] thing_id: Input should be a valid string"
    assert missing.is_error and text_of(missing) == "[invalid-argument] thing_id: Field required"


async def test_a_result_over_256_kb_is_refused_with_how_to_narrow_it(connect: Connect) -> None:
    async with connect(example_server()) as client:
        small = await client.call_tool("list_many_things", {"count": 100})
        big = await client.call_tool("list_many_things", {"count": 10_000})
    assert not small.is_error
    assert big.is_error
    text = text_of(big)
    assert text.startswith("[too-large] the result of list_many_things is ")
    assert f"over the {RESULT_LIMIT_BYTES // 1024} KB limit" in text
    assert text.endswith("Ask for less: one item, or a narrower filter")  # list_many_things has no limit/cursor


async def test_services_open_once_per_client_connection_and_close_after(connect: Connect) -> None:
    services = StubServices()
    server = example_server(services)
    for n in (1, 2):
        async with connect(server) as client:
            await client.call_tool("get_thing", {"thing_id": "t1"})
            await client.call_tool("get_thing", {"thing_id": "t1"})
            assert (services.opened, services.closed) == (n, n - 1)
    assert (services.opened, services.closed) == (2, 2)


async def test_server_identity_and_instructions_reach_the_client(connect: Connect) -> None:
    async with connect(example_server(version="9.9.9", instructions="Start with get_thing.")) as client:
        info = client.server_info
        instructions = client.instructions
        completions = client.server_capabilities.completions
    assert info is not None and (info.name, info.version) == ("mcp-storyboard", "9.9.9")
    assert instructions == "Start with get_thing."
    assert completions is not None


async def test_static_lists_tell_2026_clients_they_may_be_cached() -> None:
    from mcp import Client

    from mcp_storyboard.server.build import LIST_TTL_MS, build_server

    @asynccontextmanager
    async def nothing() -> AsyncIterator[None]:
        yield None

    async with Client(build_server(nothing, specs=[], completers=[], prompts=[])) as client:
        listed = await client.list_tools(cache_mode="bypass")
    assert (listed.ttl_ms, listed.cache_scope) == (LIST_TTL_MS, "public")


async def test_a_read_only_server_offers_no_prompt_that_needs_write_tools() -> None:
    from mcp_storyboard.server.build import build_server

    @asynccontextmanager
    async def nothing() -> AsyncIterator[None]:
        yield None

    async with Client(build_server(nothing, specs=[], completers=[], read_only=True)) as client:
        read_only = {p.name for p in (await client.list_prompts()).prompts}
    async with Client(build_server(nothing, specs=[], completers=[])) as client:
        full = {p.name for p in (await client.list_prompts()).prompts}
    assert full == {"plan_storyboard", "prepare_for_edit", "write_clip_prompts", "review_continuity"}
    assert read_only == {"review_continuity"}
