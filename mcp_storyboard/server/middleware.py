"""Request middleware that makes SDK 2.3's answers match the spec and our error codes.

- ``prompts/get`` for an unknown prompt, a missing required argument or an undeclared argument answers
  invalid-params (-32602); SDK 2.3 answers internal-error (-32603) with a logged traceback.
- ``tools/call`` for an unknown tool answers invalid-params, as the spec's tools page shows; SDK 2.3 answers an
  ``isError`` result.
- ``tools/call`` with arguments that fail the input schema answers ``[invalid-argument] field: msg``; SDK 2.3
  answers "Error executing tool X: 1 validation error for XArguments ..." with pydantic's URL.

Each middleware sees the raw params before the SDK validates them (``ServerMiddleware`` is provisional in 2.3;
the tests in ``tests/server/test_middleware.py`` pin the behaviour these rely on).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pydantic
from mcp.server.context import (
    CallNext,
    HandlerResult,
    ServerMiddleware,
    ServerRequestContext,
)
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from mcp_storyboard.server.errors import format_validation_error


def _names(values: Iterable[str]) -> str:
    return ", ".join(sorted(values)) or "(none)"


def prompt_guard(server: MCPServer[Any]) -> ServerMiddleware[Any]:
    """Refuse a ``prompts/get`` the server cannot render with invalid-params, naming the valid choices."""

    async def guard_prompt(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = ctx.params
        if ctx.method != "prompts/get" or not isinstance(params, Mapping) or not isinstance(params.get("name"), str):
            return await call_next(ctx)
        name: str = params["name"]
        prompts = {p.name: p for p in await server.list_prompts()}
        prompt = prompts.get(name)
        if prompt is None:
            raise MCPError(
                code=INVALID_PARAMS, message=f"Unknown prompt {name!r}; prompts: {_names(prompts)}", data={"name": name}
            )
        arguments = params.get("arguments") or {}
        if isinstance(arguments, Mapping):
            declared = {a.name: a for a in prompt.arguments or []}
            unknown = set(arguments) - set(declared)
            if unknown:
                raise MCPError(
                    code=INVALID_PARAMS,
                    message=f"Prompt {name!r} has no argument {_names(unknown)}; arguments: {_names(declared)}",
                )
            missing = {
                a.name
                for a in declared.values()
                if a.required and not (isinstance(arguments.get(a.name), str) and arguments[a.name].strip())
            }
            if missing:
                raise MCPError(code=INVALID_PARAMS, message=f"Prompt {name!r} needs argument {_names(missing)}")
        return await call_next(ctx)

    return guard_prompt


def _sdk_refusal(result: Mapping[str, Any], tool: str) -> bool:
    """Whether ``result`` is the SDK's own failure text (ours start with ``[code]``)."""
    content = result.get("content")
    first = content[0] if isinstance(content, list) and content else None
    text = first.get("text") if isinstance(first, dict) else None
    return isinstance(text, str) and text.startswith(f"Error executing tool {tool}")


def tool_call_guard(tools: Mapping[str, Tool]) -> ServerMiddleware[Any]:
    """Answer an unknown tool with invalid-params and bad arguments with ``[invalid-argument] field: msg``."""

    async def guard_tool_call(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = ctx.params
        if ctx.method != "tools/call" or not isinstance(params, Mapping) or not isinstance(params.get("name"), str):
            return await call_next(ctx)
        name: str = params["name"]
        tool = tools.get(name)
        if tool is None:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {name}", data={"name": name})
        result = await call_next(ctx)
        # The SDK validates the arguments once, inside call_next; only when it refused them are they validated
        # again, to replace its wording (a successful call pays for one validation, the response envelope stays
        # the SDK's).
        if isinstance(result, dict) and result.get("isError") and _sdk_refusal(result, name):
            arguments = params.get("arguments") or {}
            if isinstance(arguments, dict):
                try:
                    tool.fn_metadata.validate_arguments(arguments)
                except pydantic.ValidationError as exc:
                    result = {**result, "content": [{"type": "text", "text": format_validation_error(exc)}]}
        return result

    return guard_tool_call
