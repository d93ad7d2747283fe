"""Log notifications (``notifications/message``) to the client: the server's own warnings and errors, and progress.

What is sent: WARNING and above from the ``mcp_storyboard`` loggers, recorded while serving a request, go to the
client that made that request (never to other clients: a record can name another client's ids), after the request's
work and before its response; :func:`report_progress` messages go at ``info`` at once. Only the record's own message
is sent, cut to ``MAX_MESSAGE_CHARS``, with any URI's user info and query removed (``config.redact_uri``); never a
traceback, which can carry driver messages and hosts. Messages are written by our code from ids, counts and codes,
never from a document's user text, which must not reach the model as if the server had said it.

Who decides the level:
- 2025-11-25 connections: the level the client set with ``logging/setLevel`` (kept on the connection). Until it
  sets one, ``warning``: the spec lets the server decide what to send before ``setLevel`` ("the server MAY decide
  which messages to send automatically"); warnings and errors explain failures, progress lines would be noise to
  a host that never asked. SDK 2.3 itself filters nothing on these connections, so the filter is here.
- 2026-07-28 requests: the level in the request's ``io.modelcontextprotocol/logLevel`` (the SDK's rule; none
  without it).
Nothing else in the package sends log notifications (``ctx.log``/``ctx.info`` would bypass the level; a test
checks).
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, get_args

from mcp.server.connection import Connection, allowed_log_levels
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.types import LoggingLevel, LoggingMessageNotification, LoggingMessageNotificationParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcp_storyboard.config import redact_uri
from mcp_storyboard.server.legacy import connection_of

LEVELS: Final[tuple[LoggingLevel, ...]] = get_args(LoggingLevel)
"""Least to most severe (RFC 5424 order, as the protocol's literal declares them)."""
DEFAULT_LEVEL: Final[LoggingLevel] = "warning"
FORWARDED_LOGGER = "mcp_storyboard"
PROGRESS_LOGGER = "mcp_storyboard.progress"
MAX_MESSAGE_CHARS = 500
_LEVEL_KEY = "mcp_storyboard.log_level"
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


@dataclass(frozen=True)
class LogEntry:
    level: LoggingLevel
    logger: str
    message: str


_pending: ContextVar[list[LogEntry] | None] = ContextVar("mcp_storyboard_client_log", default=None)


def set_connection_level(connection: Connection, level: LoggingLevel) -> None:
    """Remember the level a 2025-era client asked for, for the rest of its connection."""
    connection.state[_LEVEL_KEY] = level


def connection_level(connection: Connection) -> LoggingLevel:
    """The level a 2025-era connection asked for, else ``DEFAULT_LEVEL``."""
    level = connection.state.get(_LEVEL_KEY)
    return level if level in LEVELS else DEFAULT_LEVEL


def mcp_level(levelno: int) -> LoggingLevel:
    """The protocol level of a ``logging`` level number."""
    if levelno >= logging.CRITICAL:
        return "critical"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    return "info" if levelno >= logging.INFO else "debug"


def safe_text(message: str) -> str:
    """``message`` without URI credentials or queries, cut to ``MAX_MESSAGE_CHARS``."""
    text = _URI.sub(lambda m: redact_uri(m.group(0)), message)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def allowed_levels(ctx: ServerRequestContext[Any, Any]) -> frozenset[LoggingLevel]:
    """The levels this request's client receives (see the module docstring)."""
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return allowed_log_levels(ctx.protocol_version, ctx.meta)
    threshold = connection_level(connection_of(ctx.session))
    return frozenset(LEVELS[LEVELS.index(threshold):])


async def send_client_log(ctx: ServerRequestContext[Any, Any], entry: LogEntry) -> None:
    """Send ``entry`` on the request's own stream if its client takes that level. Never raises."""
    if ctx.request_id is None or entry.level not in allowed_levels(ctx):
        return
    params = LoggingMessageNotificationParams(level=entry.level, logger=entry.logger, data=safe_text(entry.message))
    try:
        notification = LoggingMessageNotification(params=params)
        await ctx.session.send_notification(notification, related_request_id=ctx.request_id)
    except Exception:  # a log line is a courtesy; the request's own answer matters
        logging.getLogger(__name__).debug("could not send a log notification", exc_info=True)


async def report_progress(ctx: Context, progress: float, total: float | None, message: str) -> None:
    """Report a tool's progress: ``notifications/progress`` when the caller sent a progress token, and the message
    as an ``info`` log line for clients that take ``info``. ``message`` must hold no user text (ids and counts)."""
    await ctx.report_progress(progress, total, message)
    await send_client_log(ctx.request_context, LogEntry("info", PROGRESS_LOGGER, message))


class _ForwardToClient(logging.Handler):
    """Keeps WARNING+ records of the ``mcp_storyboard`` loggers made while serving a request, for that request."""

    def emit(self, record: logging.LogRecord) -> None:
        pending = _pending.get()
        if pending is None:  # not serving a request: the record stays in the server's own log
            return
        try:
            pending.append(LogEntry(mcp_level(record.levelno), record.name, record.getMessage()))
        except Exception:
            self.handleError(record)


_HANDLER = _ForwardToClient(level=logging.WARNING)


def install_log_forwarding() -> None:
    """Attach the forwarding handler to the ``mcp_storyboard`` logger (once per process)."""
    target = logging.getLogger(FORWARDED_LOGGER)
    if _HANDLER not in target.handlers:
        target.addHandler(_HANDLER)


async def forward_logs(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Middleware: collect the request's WARNING+ records, then send them before its response goes out."""
    if ctx.request_id is None or ctx.method == "initialize":
        return await call_next(ctx)
    pending: list[LogEntry] = []
    token = _pending.set(pending)
    try:
        return await call_next(ctx)
    finally:
        _pending.reset(token)
        for entry in pending:
            await send_client_log(ctx, entry)
