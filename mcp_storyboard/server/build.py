"""Assemble an ``MCPServer`` from static declarations: filter, wrap, register — in that order.

``build_server`` is the one place policy is applied. Tool specs are filtered by toolset and read-only mode
*before* anything is registered (a tool that is filtered out does not exist for the client: fail closed), each
surviving handler is wrapped by :func:`mcp_storyboard.server.errors.guard`, and the services container comes from
an async context manager entered by the server's lifespan, so the catalog and tests build the very same server
over a stub container and no database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio

from mcp.server import CacheHint
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp_types.methods import CacheableMethod

from mcp_storyboard.server.auth import HttpAuth, ServicesGate, admin_guard, rate_guard
from mcp_storyboard.server.completions import CompleterSpec, Completers, install_completions
from mcp_storyboard.server.confirmation import gate
from mcp_storyboard.server.dynamic_toolsets import (
    META_SPECS,
    DynamicToolsets,
    Scope,
    install_dynamic_toolsets,
    with_meta_tools,
)
from mcp_storyboard.server.errors import guard, results_finished_by_guard
from mcp_storyboard.server.job_events import attach_events
from mcp_storyboard.server.legacy_methods import install_legacy
from mcp_storyboard.server.middleware import prompt_guard, tool_call_guard
from mcp_storyboard.server.ownership import scope_to_owner
from mcp_storyboard.server.prompts import PromptSpec, load_prompts, to_mcp_prompt
from mcp_storyboard.server.registry import DECLARATIONS, ToolFacts, ToolSpec, select_specs
from mcp_storyboard.server.resources import register_resources
from mcp_storyboard.server.scope import OpeningServices, bind_services
from mcp_storyboard.server.taxonomy import DEFAULT_TOOLSETS, Toolset
from mcp_storyboard.server.tool_snapshot import catalog_tools, lazy_listed_tools, listed_tools, load_catalog
from mcp_storyboard.server.tracing import trace_only_when_configured

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

S = TypeVar("S")
ServicesFactory = Callable[[], AbstractAsyncContextManager[S]]
"""Opens the services for one server lifetime: once per process on stdio and HTTP, once per in-process
``Client`` connection in tests."""

Installer = Callable[[MCPServer[Any]], None]
"""Registers what the tool declarations do not cover (the resources) on a built server."""
DEFAULT_INSTALLERS: tuple[Installer, ...] = (register_resources,)

SERVER_NAME = "mcp-storyboard"
LIST_TTL_MS = 10 * 60 * 1000
STATIC_LIST_HINTS: dict[CacheableMethod, CacheHint] = {
    method: CacheHint(ttl_ms=LIST_TTL_MS, scope="public")
    for method in ("tools/list", "prompts/list", "resources/templates/list", "server/discover")
}
"""These lists are fixed for a server's configuration (the 2026 spec asks that they not vary per connection), so
2026-era clients may cache them; reads and the static resource list stay uncached."""
DYNAMIC_LIST_HINTS: dict[CacheableMethod, CacheHint] = {
    method: hint for method, hint in STATIC_LIST_HINTS.items() if method != "tools/list"
}
"""A dynamic tool list changes while clients hold it, so ``tools/list`` carries no cache hint."""




def make_tool(spec: ToolSpec) -> Tool:
    """The SDK tool for ``spec``: schemas derived from the handler's signature, the handler guarded (and, when it is
    destructive, behind the confirmation gate)."""
    tool = Tool.from_function(
        gate(spec, guard(spec)),
        name=spec.name,
        title=spec.title,
        description=spec.description,
        annotations=spec.annotations,
        structured_output=True,
    )
    results_finished_by_guard(tool)
    # Pydantic titles every property after its name ("Clip Id"); they tell a model nothing the name does not and
    # were ~12% of tools/list. Validation runs on the pydantic models, not on these published schemas.
    tool.parameters = without_null_defaults(without_model_docstrings(without_titles(tool.parameters)))
    if tool.fn_metadata.output_schema is not None:
        tool.fn_metadata.output_schema = lean_output_schema(without_titles(tool.fn_metadata.output_schema))
    return tool


def without_titles(schema: Any) -> Any:
    """``schema`` without the ``title`` keyword anywhere (a property *named* title is kept: its value is a dict)."""
    if isinstance(schema, dict):
        return {k: without_titles(v) for k, v in schema.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(schema, list):
        return [without_titles(item) for item in schema]
    return schema


def without_model_docstrings(schema: dict[str, Any]) -> dict[str, Any]:
    """An input schema without the docstrings of the argument models in ``$defs`` (a patch model's "the fields to
    change, leave one out to keep it"): the argument that takes the model describes it, and the tool says the rest;
    field descriptions stay."""
    defs = schema.get("$defs")
    if not isinstance(defs, dict):
        return schema
    lean = {name: {k: v for k, v in d.items() if not (k == "description" and "properties" in d)}
            for name, d in defs.items()}
    return {**schema, "$defs": lean}


def without_null_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """An input schema without ``"default": null`` on its optional arguments: an argument left out of ``required``
    is already optional, and the tool reads an omitted one as null (other defaults, which say what omitting
    means, stay)."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return schema
    lean = {name: {k: v for k, v in prop.items() if not (k == "default" and v is None)} if isinstance(prop, dict)
            else prop for name, prop in properties.items()}
    return {**schema, "properties": lean}


OUTPUT_ONLY_INPUT_KEYWORDS = frozenset({
    "description", "default", "examples", "format", "pattern", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems",
    "minProperties", "maxProperties", "required",
})
"""Keywords an output schema drops: they guide or check what a caller *sends*, and a result is what the server
itself stored. Field descriptions, defaults and bounds were most of the catalog's bytes (``tools/list`` is read into
every session's context); the tool description says what a result holds, and ``get_*`` tools return documents.
``required`` goes too: pydantic derives it from which fields have defaults (what *validation* needs), so on a
result it was an artifact (a clip listed 2 of its 27 always-present fields as required)."""
_SUBSCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})


def lean_output_schema(schema: Any) -> Any:
    """``schema`` without :data:`OUTPUT_ONLY_INPUT_KEYWORDS`; ``anyOf`` (nullable fields), ``$ref``/``$defs``,
    ``required`` and ``enum`` stay, so clients still validate results against it.

    A free-form object (``type: object`` without ``properties``) keeps its own description: its schema says
    nothing else about what it holds. Keys inside ``properties``/``$defs`` are names, never keywords.
    """
    if isinstance(schema, list):
        return [lean_output_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    free_form = schema.get("type") == "object" and "properties" not in schema
    lean: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            lean[key] = {name: lean_output_schema(sub) for name, sub in value.items()}
        elif key in OUTPUT_ONLY_INPUT_KEYWORDS and not (key == "description" and free_form):
            continue
        else:
            lean[key] = lean_output_schema(value)
    return lean


def declared_tools(
    specs: Sequence[ToolSpec] | None,
    completers: Sequence[CompleterSpec] | None,
    *,
    toolsets: Iterable[Toolset],
    read_only: bool,
    dynamic: bool,
    from_catalog: bool,
) -> tuple[Sequence[ToolFacts], list[Tool], Completers]:
    """The selected tools (what the policy middleware reads), the SDK tools to register (the selected ones, plus
    the dynamic-toolset meta tools when ``dynamic``) and the completers.

    The project's own tools (``specs`` None) are listed from the catalog when it is there: selection reads each
    tool's toolset and operation from its entry, and the modules under ``server/tools/`` are imported on the first
    call or completion (``registry.DECLARATIONS``), so ``initialize`` and ``tools/list`` are answered without them.
    """
    catalog = load_catalog() if from_catalog and specs is None else {}
    if catalog:
        known = select_specs(catalog_tools(catalog), toolsets=toolsets, read_only=read_only)
        tools = lazy_listed_tools(known, catalog, make_tool, DECLARATIONS.spec)
        if dynamic:
            tools = sorted([*tools, *listed_tools(META_SPECS, make_tool)], key=lambda tool: tool.name)
        lazy: Completers = completers if completers is not None else (lambda: DECLARATIONS.get().completers)
        return known, tools, lazy
    if specs is None or completers is None:
        found = DECLARATIONS.get()
        specs = found.tools if specs is None else specs
        completers = found.completers if completers is None else completers
    selected = select_specs(specs, toolsets=toolsets, read_only=read_only)
    chosen = with_meta_tools(selected) if dynamic else selected
    tools = listed_tools(chosen, make_tool) if from_catalog else [make_tool(spec) for spec in chosen]
    return selected, tools, completers


def build_server(
    services_factory: ServicesFactory[S],
    *,
    toolsets: Iterable[Toolset] = DEFAULT_TOOLSETS,
    read_only: bool = False,
    specs: Sequence[ToolSpec] | None = None,
    prompts: Sequence[PromptSpec] | None = None,
    completers: Sequence[CompleterSpec] | None = None,
    installers: Sequence[Installer] = DEFAULT_INSTALLERS,
    name: str = SERVER_NAME,
    version: str = "",
    instructions: str | None = None,
    dynamic: Scope | None = None,
    from_catalog: bool | None = None,
    auth: HttpAuth | None = None,
    open_at_start: bool = False,
) -> MCPServer[S]:
    """An ``MCPServer`` with the selected tools, the resources, the prompts and the completion handler.

    Args:
        services_factory: called once per server lifetime; what it yields is ``get_services(ctx)`` in tools
            and resource templates, and ``current_services()`` where the SDK gives no ``Context``.
        toolsets: the toolsets to register (default: all but ``users``).
        read_only: register ``read`` operations only.
        specs / completers: declarations to use instead of discovering ``server/tools/``.
        prompts: prompt files to use instead of loading ``prompts/``.
        installers: what else to register (default: the storyboard resources).
        dynamic: start with the storyboard toolset and let clients enable the others, per process (stdio) or per
            2025-era session (HTTP); see ``dynamic_toolsets``. None: every selected tool is listed.
        from_catalog: list the tools from the reviewed catalog and build each on its first call (``tool_snapshot``;
            a faster start) instead of building them all now; for the project's own tools the tool modules are
            then imported on the first call too (:func:`declared_tools`). Default: for the project's own tools
            (``specs`` None), not for ``specs`` given.
        auth: require a bearer token on Streamable HTTP, checked against the stored API tokens (the services
            must then have ``users.tokens``). None: no authentication (stdio, or HTTP with ``--no-auth``).
        open_at_start: open the services as the server starts (``serve --worker``: its worker has jobs to run),
            not once a request needs them or ``tools/list`` was answered (``scope.py``).
    """
    if from_catalog is None:
        from_catalog = specs is None
    selected, tools, completing = declared_tools(specs, completers, toolsets=toolsets, read_only=read_only,
                                                 dynamic=dynamic is not None, from_catalog=from_catalog)

    @asynccontextmanager
    async def open_and_follow() -> AsyncIterator[S]:
        # Job changes made by other processes are followed for as long as the services are open (job_events).
        async with services_factory() as opened:
            # With authentication, each non-admin request sees only its caller's projects (server/ownership.py).
            services = cast(S, cast(Any, opened).owner_scoped()) if auth is not None else opened
            async with events.following_database(services):
                yield services

    @asynccontextmanager
    async def lifespan(_: MCPServer[S]) -> AsyncIterator[S]:
        # The services open in the background: initialize and tools/list are answered meanwhile (scope.py).
        opening = OpeningServices(at_start=open_at_start)
        gate.publish(opening)
        async with anyio.create_task_group() as group:
            group.start_soon(opening.hold, open_and_follow)
            try:
                yield cast(S, opening)
            finally:
                opening.close()

    gate = ServicesGate()  # the token verifier's way to the services (HTTP auth runs outside the MCP middleware)
    bus = InMemorySubscriptionBus()  # the SDK's default, kept to publish outside requests (job_events)
    server: MCPServer[S] = MCPServer(
        name,
        version=version,
        instructions=instructions,
        tools=tools,
        lifespan=lifespan,
        cache_hints=STATIC_LIST_HINTS if dynamic is None else DYNAMIC_LIST_HINTS,
        subscriptions=bus,
        token_verifier=None if auth is None else auth.verifier(gate),
        auth=None if auth is None else auth.settings(),
    )
    events = attach_events(server, bus)
    trace_only_when_configured(server)
    install_legacy(server)  # 2025-era subscriptions and log levels; its log middleware wraps ours
    server.middleware.extend([bind_services, prompt_guard(server)])
    if dynamic is not None:  # before the call guard: a hidden tool is refused as hidden, not validated
        install_dynamic_toolsets(server, DynamicToolsets(selected, scope=dynamic))
    server.middleware.append(admin_guard(selected))  # the one check of admin-only tools
    if auth is not None:
        server.middleware.append(scope_to_owner)  # and the one of who owns what
    if auth is not None and auth.calls_per_minute > 0:
        server.middleware.append(rate_guard(auth.calls_per_minute))
    server.middleware.append(tool_call_guard({t.name: t for t in tools}))
    for install in installers:
        install(server)
    for prompt in load_prompts() if prompts is None else prompts:
        if not (read_only and prompt.writes):  # a read-only server offers no prompt that needs write tools
            server.add_prompt(to_mcp_prompt(prompt))
    install_completions(server, completing)
    return server

