"""Log notifications: the server's own warnings and errors and tool progress, at the level each client set.

Ordering stands in for "nothing arrived": one connection's notifications arrive in order, so when the next log
line a client receives is a later one, the filtered one was never sent.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import LoggingMessageNotificationParams

import mcp_storyboard
from mcp_storyboard.server.client_log import MAX_MESSAGE_CHARS, mcp_level, safe_text

from .probes import probe_server

pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")]

NextLog = Callable[[], Awaitable[LoggingMessageNotificationParams]]


@asynccontextmanager
async def logged_client(
    server: MCPServer[Any], mode: str = "legacy", **options: Any
) -> AsyncIterator[tuple[Client, NextLog]]:
    """A client of ``server`` and ``next_log()``: the next log notification it receives."""
    send, receive = anyio.create_memory_object_stream[LoggingMessageNotificationParams](max_buffer_size=100)

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        send.send_nowait(params)

    async def next_log() -> LoggingMessageNotificationParams:
        with anyio.fail_after(5):
            return await receive.receive()

    async with Client(server, mode=mode, cache=None, logging_callback=on_log, **options) as client:
        yield client, next_log


async def call(client: Client, tool: str, **arguments: Any) -> None:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content


async def test_before_set_level_a_client_gets_warnings_but_not_progress() -> None:
    async with logged_client(probe_server()) as (client, next_log):
        await call(client, "step_through", steps=2)
        await call(client, "log_line", level="warning", message="disk almost full")
        line = await next_log()
    assert (line.level, line.logger, line.data) == ("warning", "mcp_storyboard.probe", "disk almost full")


async def test_at_error_warnings_are_filtered_and_errors_arrive() -> None:
    async with logged_client(probe_server()) as (client, next_log):
        await client.set_logging_level("error")
        await call(client, "log_line", level="warning", message="filtered")
        await call(client, "log_line", level="error", message="shown")
        line = await next_log()
    assert (line.level, line.data) == ("error", "shown")


async def test_at_info_a_tools_progress_messages_arrive_with_its_progress() -> None:
    reported: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append((progress, total, message))

    async with logged_client(probe_server()) as (client, next_log):
        await client.set_logging_level("info")
        result = await client.call_tool("step_through", {"steps": 2}, progress_callback=on_progress)
        lines = [await next_log(), await next_log()]
    assert not result.is_error
    assert [(x.level, x.logger, x.data) for x in lines] == [
        ("info", "mcp_storyboard.progress", "step 1 of 2"), ("info", "mcp_storyboard.progress", "step 2 of 2")]
    assert reported == [(1, 2, "step 1 of 2"), (2, 2, "step 2 of 2")]


async def test_an_unexpected_failure_is_reported_without_its_traceback_or_cause() -> None:
    async with logged_client(probe_server()) as (client, next_log):
        result = await client.call_tool("get_thing", {"thing_id": "boom"})
        line = await next_log()
    assert result.is_error
    assert line.level == "error"
    assert isinstance(line.data, str) and line.data.startswith("tool get_thing failed unexpectedly (request ")
    assert "secret-host" not in line.data and "Traceback" not in line.data


async def test_a_logged_uri_loses_its_credentials_and_long_lines_are_cut() -> None:
    async with logged_client(probe_server()) as (client, next_log):
        await call(client, "log_line", level="error", message="cannot reach mongodb://admin:hunter2@db:27017/x?tls=1")
        await call(client, "log_line", level="error", message="x" * 2000)
        redacted, cut = await next_log(), await next_log()
    assert redacted.data == "cannot reach mongodb://***@db:27017/x"
    assert isinstance(cut.data, str) and len(cut.data) == MAX_MESSAGE_CHARS


async def test_one_clients_log_lines_never_reach_another_client() -> None:
    server = probe_server()
    async with logged_client(server) as (a, _), logged_client(server) as (b, next_b):
        await b.set_logging_level("debug")
        await call(a, "log_line", level="error", message="about a's request")
        await call(b, "log_line", level="error", message="about b's request")
        line = await next_b()
    assert line.data == "about b's request"


async def test_a_2026_era_request_that_opts_in_gets_progress_lines() -> None:
    async with logged_client(probe_server(), mode="auto", log_level="info") as (client, next_log):
        await call(client, "step_through", steps=1)
        line = await next_log()
    assert (line.level, line.data) == ("info", "step 1 of 1")


def test_python_levels_map_to_protocol_levels() -> None:
    assert [mcp_level(n) for n in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL)] == [
        "debug", "info", "warning", "error", "critical"]


def test_safe_text_redacts_every_uri_in_a_message() -> None:
    assert safe_text("a mongodb+srv://u:p@h/db b http://x:y@z/q?token=1") == "a mongodb+srv://***@h/db b http://***@z/q"


def test_only_client_log_sends_log_notifications() -> None:
    """``ctx.log``/``ctx.info``... and ``send_log_message`` skip the client's level on 2025-era connections."""
    package = Path(mcp_storyboard.__file__).parent
    senders = {"log", "debug", "info", "warning", "error", "send_log_message"}
    offenders = []
    for path in package.rglob("*.py"):
        if path.name == "client_log.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in senders
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in {"ctx", "context", "session"}):
                offenders.append(f"{path.relative_to(package)}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr == "send_log_message":
                offenders.append(f"{path.relative_to(package)}:{node.lineno}")
    assert offenders == []
