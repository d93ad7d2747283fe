"""Start-up without building every tool: ``tools/list`` answered from the reviewed catalog (``tools/*.json``), each
tool's SDK ``Tool`` (its pydantic argument model and schemas) built on its first call.

Building the SDK tools took about 0.45 s of a 2 s start (``Tool.from_function``: an argument model and two JSON
schemas per tool), before the first ``tools/list`` could be answered. The catalog holds exactly those schemas as
the wire carries them: ``tests/server/test_catalog.py`` fails when a file drifts from the live tool, and
``tests/server/test_tool_snapshot.py`` proves a server listed from it lists what an eagerly built one does, for
every toolset and read-only combination. A call still validates its arguments with the tool's own model.

The catalog is found bundled (package ``mcp_storyboard._catalog``, mapped onto ``tools/`` in pyproject) or in the
checkout. For the project's own tools the catalog is also what the server knows of them at start
(:class:`CatalogTool`: name, title, description, toolset, operation, annotations), so the modules under
``server/tools/`` are imported on the first call (``registry.DECLARATIONS``), not before ``tools/list``; a call
checks that the declared tool still has the toolset and operation it was selected by (:class:`CatalogDrift`).
With specs given instead, a tool without a file is built at start-up.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from mcp.server.mcpserver.tools import Tool
from mcp.types import ToolAnnotations

from mcp_storyboard.server.taxonomy import OPERATIONS, TOOLSETS, Operation, Toolset

if TYPE_CHECKING:
    from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata

    from mcp_storyboard.server.registry import ToolSpec

CATALOG_DIR = Path(__file__).resolve().parents[2] / "tools"
"""The catalog in a checkout: one reviewed JSON file per tool."""
BUNDLED_PACKAGE = "mcp_storyboard._catalog"
_UNORDERED = frozenset({"required", "enum"})

Entry = dict[str, Any]


def canonical(value: Any) -> Any:
    """``value`` with every ``required`` and ``enum`` list sorted: their order means nothing in JSON Schema, so it is
    not drift (the files keep the order the server builds, which is the order it lists)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            item = canonical(item)
            if key in _UNORDERED and isinstance(item, list):
                item = sorted(item, key=lambda v: json.dumps(v, sort_keys=True))
            out[key] = item
        return out
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def catalog_dir() -> Traversable | None:
    """Where the catalog files are: the bundled resource package when installed, else ``<checkout>/tools``; None
    when neither exists."""
    try:
        bundled = importlib.resources.files(BUNDLED_PACKAGE)
        if any(p.name.endswith(".json") for p in bundled.iterdir()):
            return bundled
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    return CATALOG_DIR if CATALOG_DIR.is_dir() else None


def load_entries(names: frozenset[str], directory: Traversable | None = None) -> dict[str, Entry]:
    """The catalog entries of the tools ``names`` that have a file (unreadable files count as missing)."""
    root = catalog_dir() if directory is None else directory
    if root is None:
        return {}
    entries: dict[str, Entry] = {}
    for name in names:
        try:
            entry = json.loads(root.joinpath(f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(entry, dict) and entry.get("name") == name and isinstance(entry.get("inputSchema"), dict):
            entries[name] = entry
    return entries


def load_catalog(directory: Traversable | None = None) -> dict[str, Entry]:
    """Every readable entry of the catalog (``directory``, default :func:`catalog_dir`), by tool name."""
    root = catalog_dir() if directory is None else directory
    if root is None:
        return {}
    names = frozenset(p.name.removesuffix(".json") for p in root.iterdir() if p.name.endswith(".json"))
    return load_entries(names, root)


@dataclass(frozen=True)
class CatalogTool:
    """A tool as its catalog entry declares it: what listing, selection and the policy middleware need
    (``registry.ToolFacts``), read without importing the tool's module."""

    name: str
    title: str
    description: str
    toolset: Toolset
    operation: Operation
    annotations: ToolAnnotations

    @classmethod
    def of(cls, entry: Entry) -> CatalogTool | None:
        """The tool of ``entry``; None for an entry of no selectable toolset (the dynamic-toolset meta tools, which
        are declared in ``dynamic_toolsets``) or one missing a fact."""
        toolset, operation = entry.get("toolset"), entry.get("operation")
        title, description = entry.get("title"), entry.get("description")
        if toolset not in TOOLSETS or operation not in OPERATIONS or not isinstance(entry.get("annotations"), dict):
            return None
        if not (isinstance(title, str) and isinstance(description, str)):
            return None
        return cls(name=entry["name"], title=title, description=description, toolset=cast(Toolset, toolset),
                   operation=cast(Operation, operation), annotations=ToolAnnotations.model_validate(entry["annotations"]))


def catalog_tools(entries: Mapping[str, Entry]) -> list[CatalogTool]:
    """The selectable tools of the catalog ``entries``."""
    return [tool for entry in entries.values() if (tool := CatalogTool.of(entry)) is not None]


class CatalogDrift(RuntimeError):
    """A listed tool's declaration disagrees with the catalog it was selected by (a stale catalog): refused."""


class ListedTool:
    """A tool as ``MCPServer`` lists and calls it, listed from its catalog entry; the SDK ``Tool`` that runs it
    (argument validation, the call, result conversion) is built from the spec on first use.

    It stands in for ``mcp.server.mcpserver.tools.Tool`` in the SDK's ``ToolManager``, which reads the listing
    attributes below and calls :meth:`run`. ``facts`` is the spec, or the catalog's :class:`CatalogTool` with
    ``resolve`` finding the spec (importing the tool modules) on first use.
    """

    def __init__(self, facts: ToolSpec | CatalogTool, entry: Entry, build: Callable[[ToolSpec], Tool],
                 resolve: Callable[[str], ToolSpec | None] | None = None) -> None:
        self.name = facts.name
        self.title: str | None = facts.title
        self.description = facts.description
        self.annotations: ToolAnnotations | None = facts.annotations
        self.icons: list[Any] | None = None
        self.meta: dict[str, Any] | None = None
        self.parameters: dict[str, Any] = entry["inputSchema"]
        self.output_schema: dict[str, Any] | None = entry.get("outputSchema")
        self._facts = facts
        self._resolve = resolve
        self._build = build
        self._built: Tool | None = None

    def _spec(self) -> ToolSpec:
        facts = self._facts
        if self._resolve is None:
            return cast("ToolSpec", facts)
        spec = self._resolve(facts.name)
        if spec is None or (spec.toolset, spec.operation) != (facts.toolset, facts.operation):
            declared = "no module declares it" if spec is None else f"declared {spec.toolset}/{spec.operation}"
            raise CatalogDrift(f"tool {facts.name!r} is listed from the catalog as {facts.toolset}/{facts.operation} "
                               f"but {declared}; the catalog is stale (regenerate tools/*.json)")
        return spec

    @property
    def built(self) -> Tool:
        """The SDK tool, built once (a few milliseconds; the first of a server also imports the tool modules)."""
        if self._built is None:
            self._built = self._build(self._spec())
        return self._built

    @property
    def fn_metadata(self) -> FuncMetadata:
        return self.built.fn_metadata

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        return await self.built.run(arguments, context, convert_result=convert_result)


def listed_tools(
    specs: Sequence[ToolSpec], build: Callable[[ToolSpec], Tool], directory: Traversable | None = None
) -> list[Tool]:
    """The tools of ``specs``: listed from the catalog (``directory``, default :func:`catalog_dir`) where it has
    them, else built now with ``build``."""
    entries = load_entries(frozenset(spec.name for spec in specs), directory)
    # A ListedTool is what the SDK's ToolManager needs of a Tool (see ListedTool); the cast says so to mypy.
    return [cast(Tool, ListedTool(spec, entries[spec.name], build)) if spec.name in entries else build(spec)
            for spec in specs]


def lazy_listed_tools(
    tools: Sequence[CatalogTool], entries: Mapping[str, Entry], build: Callable[[ToolSpec], Tool],
    resolve: Callable[[str], ToolSpec | None],
) -> list[Tool]:
    """The catalog's ``tools`` (entries from ``entries``), each resolved to its spec with ``resolve`` and built on
    its first call."""
    return [cast(Tool, ListedTool(tool, entries[tool.name], build, resolve)) for tool in tools]


__all__ = ["BUNDLED_PACKAGE", "CATALOG_DIR", "CatalogDrift", "CatalogTool", "Entry", "ListedTool", "canonical",
           "catalog_dir", "catalog_tools", "lazy_listed_tools", "listed_tools", "load_catalog", "load_entries"]
