"""The real command over stdio: a subprocess speaking MCP on stdout, both protocol eras."""

from __future__ import annotations

import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_serve_command_answers_over_stdio(mode: str, tmp_path: object) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_storyboard", "serve", "--mongodb-uri", "memory://", "--db-name", "stdio_smoke"],
        env={"STORYBOARD_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"},
    )
    with anyio.fail_after(60):
        async with Client(params, mode=mode, cache=None) as client:
            info = client.server_info
            prompts = [p.name for p in (await client.list_prompts()).prompts]
            await client.list_tools()
            rendered = await client.get_prompt("review_continuity", {"project_id": "p-{1}"})
    assert info is not None and info.name == "mcp-storyboard"
    assert prompts == ["plan_storyboard", "review_continuity", "write_clip_prompts"]
    assert "project p-{1}" in rendered.messages[0].content.text  # type: ignore[union-attr]
