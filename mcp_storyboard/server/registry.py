"""Static tool declarations: a ``ToolSpec`` per tool, collected from the modules under ``server/tools/``
(with the completers those modules declare).

A tool module declares its toolset once and its tools with a decorator; nothing is registered on a server at
import time, so the same declarations serve the live server, ``--list-tools`` and the catalog::

    TOOLSET: Toolset = "storyboard"
    tool = ToolRegistry(TOOLSET)

    @tool(title="Get a project", operation="read")
    async def get_project(project_id: ProjectIdArg, ctx: Context) -> Project:
        \"\"\"One project by id, with its settings.\"\"\"
        return await get_services(ctx).projects.get(project_id)
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import threading
import typing
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp.types import ToolAnnotations
from pydantic import BaseModel

from mcp_storyboard.server.completions import CompleterSpec, CompletionRegistry
from mcp_storyboard.server.confirmation import check_declaration, needs_confirmation
from mcp_storyboard.server.taxonomy import (
    OPERATIONS,
    TOOLSETS,
    Operation,
    Toolset,
    annotations_for,
)

if TYPE_CHECKING:
    from mcp_storyboard.services.container import Services

TOOLS_PACKAGE = "mcp_storyboard.server.tools"
TOOL_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
"""``verb_noun`` snake case: at least two words, ASCII lower case."""

Handler = Callable[..., Awaitable[BaseModel]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class ToolSpec:
    """One tool as declared: what the client sees and the policy facts the server filters on."""

    name: str
    title: str
    description: str
    operation: Operation
    toolset: Toolset
    handler: Handler = field(repr=False, compare=False)
    context_param: str
    """The handler's ``Context`` parameter; the SDK fills it and leaves it out of the input schema."""
    idempotent: bool | None = None
    destructive: bool | None = None
    narrow_hint: str | None = None
    """How to ask for less when a result is over the size limit, for a tool without ``limit``/``cursor``."""

    @property
    def annotations(self) -> ToolAnnotations:
        """The annotations derived from the operation kind and the spec's overrides."""
        return annotations_for(self.operation, idempotent=self.idempotent, destructive=self.destructive)


def get_services(ctx: Context) -> Services:
    """The services container of this server's lifetime (what ``build_server``'s factory yielded)."""
    return cast("Services", ctx.request_context.lifespan_context)


class ToolRegistry:
    """The tools one module declares for one toolset; call it as a decorator to declare a tool."""

    def __init__(self, toolset: Toolset) -> None:
        if toolset not in TOOLSETS:
            raise ValueError(f"unknown toolset {toolset!r}; toolsets: {', '.join(TOOLSETS)}")
        self.toolset: Toolset = toolset
        self._specs: dict[str, ToolSpec] = {}

    def __call__(
        self,
        *,
        title: str,
        operation: Operation,
        name: str | None = None,
        description: str | None = None,
        idempotent: bool | None = None,
        destructive: bool | None = None,
        narrow_hint: str | None = None,
    ) -> Callable[[H], H]:
        """Declare the decorated ``async def`` as a tool; its docstring is the description unless one is given.

        Raises:
            ValueError / TypeError: the declaration breaks a convention (name, title, async handler, ``Context``
                parameter, pydantic return model); checked at import time so a bad tool never ships.
        """

        def declare(handler: H) -> H:
            spec = _make_spec(
                handler,
                toolset=self.toolset,
                title=title,
                operation=operation,
                name=name,
                description=description,
                idempotent=idempotent,
                destructive=destructive,
                narrow_hint=narrow_hint,
            )
            if spec.name in self._specs:
                raise ValueError(f"tool {spec.name!r} is declared twice in toolset {self.toolset!r}")
            self._specs[spec.name] = spec
            return handler

        return declare

    @property
    def specs(self) -> tuple[ToolSpec, ...]:
        """The declared tools, in declaration order."""
        return tuple(self._specs.values())

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(self._specs.values())


def _make_spec(
    handler: Handler,
    *,
    toolset: Toolset,
    title: str,
    operation: Operation,
    name: str | None,
    description: str | None,
    idempotent: bool | None,
    destructive: bool | None,
    narrow_hint: str | None = None,
) -> ToolSpec:
    tool_name = name or handler.__name__
    where = f"tool {tool_name!r} ({handler.__module__})"
    if not TOOL_NAME.match(tool_name):
        raise ValueError(f"{where}: names are verb_noun snake case, e.g. get_project")
    if not title.strip():
        raise ValueError(f"{where}: title is empty")
    if operation not in OPERATIONS:
        raise ValueError(f"{where}: operation {operation!r} is not one of {', '.join(OPERATIONS)}")
    if not inspect.iscoroutinefunction(handler):
        raise TypeError(f"{where}: the handler must be an async def")
    try:
        hints = typing.get_type_hints(handler)
    except Exception as exc:  # any unresolvable annotation; the SDK would silently mis-derive the schema
        raise TypeError(f"{where}: annotations cannot be resolved at runtime ({exc}); import them normally") from exc
    context_param = find_context_parameter(handler)
    if context_param is None:
        raise TypeError(f"{where}: add a `ctx: Context` parameter (services and notifications come through it)")
    returns = hints.get("return")
    if not (inspect.isclass(returns) and issubclass(returns, BaseModel)):
        raise TypeError(f"{where}: the return annotation must be a pydantic model (it becomes the outputSchema)")
    text = inspect.cleandoc(description or handler.__doc__ or "")
    if not text:
        raise ValueError(f"{where}: give the tool a docstring or a description; the model reads it")
    annotations_for(operation, idempotent=idempotent, destructive=destructive)  # rejects a destructive read
    spec = ToolSpec(
        name=tool_name,
        title=title.strip(),
        description=text,
        operation=operation,
        toolset=toolset,
        handler=handler,
        context_param=context_param,
        idempotent=idempotent,
        destructive=destructive,
        narrow_hint=narrow_hint,
    )
    if needs_confirmation(spec):  # the confirmation gate reads `confirm`: a destructive tool must declare it
        check_declaration(spec)
    return spec


class ToolFacts(Protocol):
    """What selection and the policy middleware read of a tool: a ``ToolSpec``, or its catalog entry
    (``tool_snapshot.CatalogTool``) when the tool's module is not imported yet."""

    @property
    def name(self) -> str: ...
    @property
    def toolset(self) -> Toolset: ...
    @property
    def operation(self) -> Operation: ...


F = TypeVar("F", bound=ToolFacts)


def select_specs(specs: Iterable[F], *, toolsets: Iterable[Toolset], read_only: bool) -> list[F]:
    """The specs a server with this configuration registers, sorted by name.

    Filtering happens before registration, so a tool outside the selection does not exist for the client at
    all (fail closed): read-only mode keeps ``read`` operations only; toolsets keep their own tools.
    """
    wanted = frozenset(toolsets)
    chosen = [s for s in specs if s.toolset in wanted and (not read_only or s.operation == "read")]
    return sorted(chosen, key=lambda s: s.name)


@dataclass(frozen=True)
class Declarations:
    """Everything the tool modules declare."""

    tools: tuple[ToolSpec, ...]
    completers: tuple[CompleterSpec, ...] = ()


def collect(modules: Iterable[ModuleType]) -> Declarations:
    """The declarations found in ``modules``: every ``ToolRegistry`` and ``CompletionRegistry`` at module level.

    Raises:
        ValueError: two modules declare the same tool name, or a module's ``TOOLSET`` disagrees with its registry.
    """
    tools: dict[str, ToolSpec] = {}
    completers: list[CompleterSpec] = []
    for module in modules:
        declared_toolset = getattr(module, "TOOLSET", None)
        for value in vars(module).values():
            if isinstance(value, ToolRegistry):
                if declared_toolset is not None and value.toolset != declared_toolset:
                    raise ValueError(f"{module.__name__}: TOOLSET is {declared_toolset!r} but a registry uses "
                                     f"{value.toolset!r}")
                for spec in value:
                    if spec.name in tools and tools[spec.name] is not spec:
                        raise ValueError(f"tool {spec.name!r} is declared in two modules")
                    tools[spec.name] = spec
            elif isinstance(value, CompletionRegistry):
                completers.extend(value)
    return Declarations(tools=tuple(tools.values()), completers=tuple(completers))


def tool_modules(package: str = TOOLS_PACKAGE) -> list[ModuleType]:
    """Import every public module of the tools package (one per toolset or family)."""
    pkg = importlib.import_module(package)
    names = sorted(info.name for info in pkgutil.iter_modules(pkg.__path__) if not info.name.startswith("_"))
    return [importlib.import_module(f"{package}.{name}") for name in names]


def discover(package: str = TOOLS_PACKAGE) -> Declarations:
    """The declarations of every module under ``server/tools/``."""
    return collect(tool_modules(package))


class LazyDeclarations:
    """:func:`discover`, run on first use and once: a server listed from the catalog imports its tool modules (and
    the services they name) only when a request needs a handler or a completer.

    The lock makes parallel first uses import once: on the event loop a first use runs to its end without yielding,
    and a thread (``anyio.to_thread``, a second loop) waits for the import in progress.
    """

    def __init__(self, package: str = TOOLS_PACKAGE) -> None:
        self._package = package
        self._lock = threading.Lock()
        self._found: Declarations | None = None
        self._by_name: dict[str, ToolSpec] = {}

    @property
    def loaded(self) -> bool:
        return self._found is not None

    def get(self) -> Declarations:
        found = self._found
        if found is None:
            with self._lock:
                found = self._found
                if found is None:
                    found = discover(self._package)
                    self._by_name = {spec.name: spec for spec in found.tools}
                    self._found = found
        return found

    def spec(self, name: str) -> ToolSpec | None:
        """The declared tool ``name`` (None: no module declares it)."""
        self.get()
        return self._by_name.get(name)


DECLARATIONS = LazyDeclarations()
"""The project's own declarations, shared by every server of the process (modules import once anyway)."""


__all__ = [
    "DECLARATIONS",
    "Declarations",
    "Handler",
    "LazyDeclarations",
    "ToolFacts",
    "ToolRegistry",
    "ToolSpec",
    "collect",
    "discover",
    "get_services",
    "select_specs",
    "tool_modules",
]
