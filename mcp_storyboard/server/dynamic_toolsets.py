"""Dynamic toolsets (``--dynamic-toolsets``): a session starts with the storyboard toolset plus ``list_toolsets`` and
``enable_toolset``; enabling a toolset lists its tools and sends ``notifications/tools/list_changed``.

Every tool the configuration allows (``--toolsets``, ``--read-only``) is registered on the ``MCPServer`` as usual,
so the filter still decides what can exist at all (fail closed: a toolset outside ``--toolsets`` cannot be enabled,
and in read-only mode enabling adds read tools only). What a client sees of them is decided here, by one middleware:
``tools/list`` answers the enabled toolsets' tools, and ``tools/call`` refuses a tool whose toolset is not enabled.

Where the enabled set lives (its *scope*) follows from who can be told apart:

- ``process`` (stdio): one client per process, in either protocol era.
- ``session`` (Streamable HTTP): each 2025-era HTTP session, keyed by its ``Connection`` (``legacy.connection_of``)
  and dropped when it closes. A 2026-era request carries no session, and the spec asks that ``tools/list`` not vary
  per connection, so such requests are refused with ``-32022`` naming the 2025-era versions: a client that speaks
  both (``mcp.Client`` in auto mode) falls back to the handshake and gets a session; a 2026-only client reads why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal
from weakref import WeakKeyDictionary

from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.session import ServerSession
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, ToolListChangedNotification
from mcp_types import UNSUPPORTED_PROTOCOL_VERSION
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.server.legacy import connection_of
from mcp_storyboard.server.registry import ToolFacts, ToolRegistry, ToolSpec
from mcp_storyboard.server.taxonomy import TOOLSETS, Toolset

Scope = Literal["process", "session"]
SCOPES: tuple[Scope, ...] = ("process", "session")
START: frozenset[Toolset] = frozenset({"storyboard"})

TOOLSET_DESCRIPTIONS: Mapping[Toolset, str] = {
    "storyboard": "projects, scenes, clips, the timeline and media",
    "characters": "characters: reference images, LoRA, trigger words, FaceFusion settings",
    "styles": "style templates that add prompt text to clips",
    "facefusion": "FaceFusion face jobs",
    "models": "the model catalog",
    "generation": "ComfyUI generation and its job queue",
    "users": "users",
}


class ToolsetInfo(BaseModel):
    name: Toolset
    description: str
    tools: int
    enabled: bool


class ToolsetList(BaseModel):
    toolsets: list[ToolsetInfo]


class ToolsetEnabled(BaseModel):
    toolset: Toolset
    added: list[str]
    """The tools this call added to the list (empty when the toolset was already enabled)."""
    enabled: list[Toolset]


class DynamicToolsets:
    """Which toolsets are enabled, per scope, among the toolsets of the tools a server registered."""

    def __init__(self, specs: Iterable[ToolFacts], *, scope: Scope, start: Iterable[Toolset] = START) -> None:
        if scope not in SCOPES:
            raise ValueError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
        self.scope: Scope = scope
        members: dict[Toolset, list[str]] = {}
        for spec in specs:
            members.setdefault(spec.toolset, []).append(spec.name)
        self.members: dict[Toolset, tuple[str, ...]] = {t: tuple(sorted(members[t])) for t in TOOLSETS if t in members}
        self.toolset_of: dict[str, Toolset] = {name: t for t, names in self.members.items() for name in names}
        self._start = frozenset(t for t in start if t in self.members)
        self._process: set[Toolset] = set(self._start)
        self._sessions: dict[Connection, set[Toolset]] = {}

    def enabled(self, session: ServerSession) -> set[Toolset]:
        """The enabled toolsets of the scope ``session`` belongs to (the live set: ``enable`` adds to it)."""
        if self.scope == "process":
            return self._process
        connection = connection_of(session)
        found = self._sessions.get(connection)
        if found is None:
            found = self._sessions[connection] = set(self._start)
            connection.exit_stack.callback(self._sessions.pop, connection, None)
        return found

    @property
    def sessions(self) -> int:
        """How many sessions hold an enabled set (session scope; a closed connection's set is dropped)."""
        return len(self._sessions)

    def visible(self, session: ServerSession) -> set[str]:
        """The gated tools ``session`` may list and call (the meta tools are not gated)."""
        return {name for toolset in self.enabled(session) for name in self.members[toolset]}

    def enable(self, session: ServerSession, toolset: Toolset) -> list[str]:
        """Enable ``toolset`` in ``session``'s scope; the tools it added (none if it was enabled already).

        Raises:
            ValidationError: the server offers no such toolset (``--toolsets``, or none of its tools is a read in
                read-only mode); nothing changes.
        """
        if toolset not in self.members:
            raise ValidationError("toolset", f"'{toolset}' is not offered by this server", allowed=list(self.members))
        enabled = self.enabled(session)
        if toolset in enabled:
            return []
        enabled.add(toolset)
        return list(self.members[toolset])

    def infos(self, session: ServerSession) -> list[ToolsetInfo]:
        enabled = self.enabled(session)
        return [
            ToolsetInfo(name=t, description=TOOLSET_DESCRIPTIONS[t], tools=len(names), enabled=t in enabled)
            for t, names in self.members.items()
        ]


_STATES: WeakKeyDictionary[MCPServer[Any], DynamicToolsets] = WeakKeyDictionary()

# ToolSpec needs a toolset; the meta tools are registered outside toolset selection (every dynamic server has them,
# whatever --toolsets says), so this one selects nothing. They live here, not under server/tools/, so only a
# dynamic server has them.
meta = ToolRegistry("storyboard")


def dynamic_toolsets_of(server: MCPServer[Any]) -> DynamicToolsets | None:
    """The enabled-toolset state of a dynamic server (None: the server lists every tool it has)."""
    return _STATES.get(server)


def _state(ctx: Context) -> DynamicToolsets:
    return _STATES[ctx.mcp_server]


@meta(title="List toolsets", operation="read")
async def list_toolsets(ctx: Context) -> ToolsetList:
    """The toolsets this server offers: name, what it covers, tool count, and whether it is enabled here."""
    return ToolsetList(toolsets=_state(ctx).infos(ctx.request_context.session))


@meta(title="Enable a toolset", operation="read")
async def enable_toolset(toolset: Toolset, ctx: Context) -> ToolsetEnabled:
    """Add a toolset's tools (see list_toolsets) to this session's tool list and notify that the list changed."""
    state = _state(ctx)
    session = ctx.request_context.session
    added = state.enable(session, toolset)
    if added:
        await _announce(ctx, session)
    return ToolsetEnabled(toolset=toolset, added=added, enabled=sorted(state.enabled(session)))


async def _announce(ctx: Context, session: ServerSession) -> None:
    """``notifications/tools/list_changed``: on this request's stream for a 2025-era client (it arrives before the
    result, even before an HTTP client opened its GET stream), through ``subscriptions/listen`` for a 2026-era one."""
    if ctx.request_context.protocol_version in MODERN_PROTOCOL_VERSIONS:
        await ctx.notify_tools_changed()
    else:
        await session.send_notification(ToolListChangedNotification(), related_request_id=ctx.request_id)


META_SPECS: tuple[ToolSpec, ...] = meta.specs
META_NAMES = frozenset(spec.name for spec in META_SPECS)


def install_dynamic_toolsets(server: MCPServer[Any], state: DynamicToolsets) -> None:
    """Gate ``server``'s tools by ``state`` (add the middleware before ``tool_call_guard``)."""
    _STATES[server] = state
    server.middleware.append(toolset_gate(state))


def toolset_gate(state: DynamicToolsets) -> ServerMiddleware[Any]:
    """Middleware: the enabled tools in ``tools/list``, a refusal for a hidden one in ``tools/call``,
    ``tools.listChanged`` in the ``initialize`` answer, and (session scope) the refusal of 2026-era requests."""

    async def gate(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.request_id is None:  # a notification: nothing to gate
            return await call_next(ctx)
        modern = ctx.protocol_version in MODERN_PROTOCOL_VERSIONS and ctx.method != "initialize"
        if state.scope == "session" and modern:
            raise MCPError(
                code=UNSUPPORTED_PROTOCOL_VERSION,
                message="[dynamic-toolsets] this server enables toolsets per session (--dynamic-toolsets over HTTP), "
                f"and a {ctx.protocol_version} request has no session; connect with protocol "
                f"{HANDSHAKE_PROTOCOL_VERSIONS[-1]} (the initialize handshake), or over stdio",
                data={"supported": list(HANDSHAKE_PROTOCOL_VERSIONS), "requested": ctx.protocol_version},
            )
        if ctx.method == "initialize":
            return _with_list_changed(await call_next(ctx))
        if ctx.method == "tools/list":
            return _only(await call_next(ctx), state.visible(ctx.session))
        if ctx.method == "tools/call" and isinstance(ctx.params, Mapping):
            name = ctx.params.get("name")
            toolset = state.toolset_of.get(name) if isinstance(name, str) else None
            if toolset is not None and name not in state.visible(ctx.session):
                raise MCPError(
                    code=INVALID_PARAMS,
                    message=f"Tool {name!r} is in toolset {toolset!r}, which is not enabled; "
                    f"call enable_toolset with toolset: {toolset!r} first",
                    data={"name": name, "toolset": toolset},
                )
        return await call_next(ctx)

    return gate


def _with_list_changed(result: HandlerResult) -> HandlerResult:
    """The ``initialize`` answer advertising ``tools.listChanged`` (SDK 2.3 derives it from options we cannot pass)."""
    if not isinstance(result, dict) or not isinstance(result.get("capabilities"), dict):
        return result
    capabilities = dict(result["capabilities"])
    capabilities["tools"] = {**(capabilities.get("tools") or {}), "listChanged": True}
    return {**result, "capabilities": capabilities}


def _only(result: HandlerResult, visible: set[str]) -> HandlerResult:
    """A ``tools/list`` answer without the gated tools that are not ``visible``."""
    if not isinstance(result, dict) or not isinstance(result.get("tools"), list):
        return result
    listed = META_NAMES | visible
    tools = [t for t in result["tools"] if not isinstance(t, dict) or t.get("name") in listed]
    return {**result, "tools": tools}


def with_meta_tools(specs: Sequence[ToolSpec]) -> list[ToolSpec]:
    """``specs`` plus the meta tools, sorted by name like every tool list."""
    return sorted([*specs, *META_SPECS], key=lambda s: s.name)
