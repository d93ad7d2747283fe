"""What SDK 2.3 does without our middleware, pinned, so a fixed SDK shows which guard can go."""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS

from .conftest import example_server

pytestmark = pytest.mark.anyio


def bare_server() -> MCPServer:
    server = MCPServer("bare")

    @server.prompt()
    def greet(who: str) -> str:
        return f"hello {who}"

    @server.tool()
    async def count_things(n: int) -> int:
        return n

    return server


async def test_sdk_2_3_alone_never_answers_an_unknown_prompt_with_invalid_params(mode: str) -> None:
    async with Client(bare_server(), mode=mode, cache=None) as client:
        with pytest.raises(MCPError) as caught:
            await client.get_prompt("nope", {})
    # 2026 path: internal error; handshake path: code 0 (not a JSON-RPC code) with the ValueError's text.
    assert caught.value.error.code == (INTERNAL_ERROR if mode == "auto" else 0)


async def test_sdk_2_3_alone_answers_bad_tool_input_with_its_own_wording_and_unknown_tools_as_results(
    mode: str,
) -> None:
    async with Client(bare_server(), mode=mode, cache=None) as client:
        bad = await client.call_tool("count_things", {"n": "many"})
        unknown = await client.call_tool("nope", {})
    bad_text = bad.content[0].text  # type: ignore[union-attr]
    assert bad.is_error and bad_text.startswith("Error executing tool count_things: 1 validation error")
    assert unknown.is_error and unknown.content[0].text == "Unknown tool: nope"  # type: ignore[union-attr]


async def test_with_our_guards_an_unknown_tool_is_invalid_params(mode: str) -> None:
    async with Client(example_server(), mode=mode, cache=None) as client:
        with pytest.raises(MCPError) as caught:
            await client.call_tool("nope", {})
    assert (caught.value.error.code, caught.value.error.message) == (INVALID_PARAMS, "Unknown tool: nope")


async def test_other_methods_pass_through_the_guards_untouched(mode: str) -> None:
    async with Client(example_server(), mode=mode, cache=None) as client:
        assert len((await client.list_prompts()).prompts) == 4
        assert (await client.call_tool("get_thing", {"thing_id": "t1"})).is_error is False
