"""The reviewed tool catalog: ``tools/<name>.json`` per tool, so every schema change shows up as a diff.

Each file holds what a client sees in ``tools/list`` (name, title, description, inputSchema, outputSchema,
annotations) plus our ``toolset`` and ``operation``, with sorted keys; lists keep the order the server builds (it
lists its tools from these files: ``tool_snapshot``), though the order of ``required``/``enum`` is not drift.
The server is built over no services and every toolset (the catalog is the union of all configurations).

Regenerate with ``python -m mcp_storyboard.server.catalog`` or ``UPDATE_TOOL_CATALOG=1 pytest
tests/server/test_catalog.py``; ``--check`` only reports; ``--sizes`` prints what each tool costs on the wire.

Every session reads ``tools/list`` into the model's context, so the catalog has a byte budget
(:data:`AVERAGE_BUDGET` per tool on average, none over :data:`TOOL_BUDGET`), counted as the wire carries it.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.dynamic_toolsets import META_NAMES, META_SPECS
from mcp_storyboard.server.registry import ToolSpec, discover
from mcp_storyboard.server.taxonomy import TOOLSETS
from mcp_storyboard.server.tool_snapshot import CATALOG_DIR, Entry, canonical

UPDATE_ENV = "UPDATE_TOOL_CATALOG"
HOW_TO_UPDATE = (
    f"to accept the live tools, run `{UPDATE_ENV}=1 python -m pytest tests/server/test_catalog.py` "
    "(or `python -m mcp_storyboard.server.catalog`) and review the diff of tools/"
)
_WIRE_KEYS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
AVERAGE_BUDGET = 1500
"""Bytes per tool on average over every toolset (``--toolsets all``)."""
TOOL_BUDGET = 4000
"""Bytes of the largest tool."""


@asynccontextmanager
async def no_services() -> AsyncIterator[None]:
    """A services factory for building a server that is only listed, never called."""
    yield None


def dumps(entry: Entry) -> str:
    """The file text of one entry: sorted keys, two-space indent, trailing newline. Lists keep their order (the
    server lists its tools from these files, exactly as built); their order is not compared (:func:`canonical`)."""
    return json.dumps(entry, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


async def catalog_entries(specs: Sequence[ToolSpec] | None = None) -> dict[str, Entry]:
    """The live catalog, by tool name: every declared tool as ``tools/list`` shows it, plus toolset/operation.

    The project's own catalog (``specs`` None) also holds the two tools ``--dynamic-toolsets`` adds, under the
    toolset name ``dynamic`` (they belong to no toolset: a dynamic server has them whatever ``--toolsets`` says).
    """
    real = specs is None
    specs = discover().tools if specs is None else specs
    server = build_server(no_services, toolsets=TOOLSETS, specs=specs, prompts=[], completers=[], installers=[],
                          dynamic="process" if real else None, from_catalog=False)
    by_name = {s.name: s for s in [*specs, *META_SPECS]}
    entries: dict[str, Entry] = {}
    for tool in await server.list_tools():
        wire = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
        entry = {key: wire[key] for key in _WIRE_KEYS if key in wire}
        entry["toolset"] = "dynamic" if tool.name in META_NAMES else by_name[tool.name].toolset
        entry["operation"] = by_name[tool.name].operation
        entries[tool.name] = entry
    return entries


def wire_size(entry: Entry) -> int:
    """Bytes of one tool as ``tools/list`` carries it: its wire fields as compact JSON, UTF-8."""
    wire = {key: entry[key] for key in _WIRE_KEYS if key in entry}
    return len(json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode())


def size_report(entries: Mapping[str, Entry], largest: int = 5) -> str:
    """Total, average and largest tool bytes, and the ``largest`` tools with their parts."""
    sizes = {name: wire_size(entry) for name, entry in entries.items()}
    total = sum(sizes.values())
    lines = [f"{len(sizes)} tools, {total} B, {total / max(len(sizes), 1):.0f} B a tool on average "
             f"(budget {AVERAGE_BUDGET}), largest {max(sizes.values(), default=0)} B (budget {TOOL_BUDGET})"]
    for name in sorted(sizes, key=lambda n: (-sizes[n], n))[:largest]:
        parts = ", ".join(f"{key} {len(json.dumps(entries[name][key], separators=(',', ':'), ensure_ascii=False))}"
                          for key in ("description", "inputSchema", "outputSchema") if key in entries[name])
        lines.append(f"  {name}: {sizes[name]} B ({parts})")
    return "\n".join(lines)


def over_budget(entries: Mapping[str, Entry]) -> list[str]:
    """What breaks the budget: the average, and each tool over :data:`TOOL_BUDGET` (empty: within budget)."""
    sizes = {name: wire_size(entry) for name, entry in entries.items()}
    problems = [f"{name} is {size} B, over the {TOOL_BUDGET} B a tool may cost"
                for name, size in sorted(sizes.items()) if size > TOOL_BUDGET]
    if sizes and sum(sizes.values()) / len(sizes) > AVERAGE_BUDGET:
        problems.insert(0, f"the catalog averages {sum(sizes.values()) / len(sizes):.0f} B a tool, over the "
                           f"{AVERAGE_BUDGET} B budget")
    return problems


def check_catalog(entries: Mapping[str, Entry], directory: Path = CATALOG_DIR) -> list[str]:
    """What differs between the live tools and ``directory``: missing, drifted and stale files (empty: none)."""
    problems: list[str] = []
    for name, entry in sorted(entries.items()):
        path = directory / f"{name}.json"
        if not path.is_file():
            problems.append(f"tools/{name}.json is missing")
            continue
        text = path.read_text(encoding="utf-8")
        try:
            same = canonical(json.loads(text)) == canonical(entry)
        except json.JSONDecodeError:
            same = False
        if not same:
            diff = difflib.unified_diff(
                _normalised_text(text).splitlines(), dumps(entry).splitlines(),
                f"tools/{name}.json (catalog)", f"{name} (live)", lineterm="",
            )
            problems.append(f"tools/{name}.json drifted from the live tool:\n" + "\n".join(diff))
    if directory.is_dir():
        for path in sorted(directory.glob("*.json")):
            if path.stem not in entries:
                problems.append(f"tools/{path.name} is stale: no live tool is named {path.stem!r}")
    return problems


def _normalised_text(text: str) -> str:
    try:
        return dumps(json.loads(text))
    except json.JSONDecodeError:
        return text


def write_catalog(entries: Mapping[str, Entry], directory: Path = CATALOG_DIR) -> list[str]:
    """Make ``directory`` equal the live catalog; returns what changed (written or removed file names)."""
    directory.mkdir(parents=True, exist_ok=True)
    changed: list[str] = []
    for name, entry in sorted(entries.items()):
        path = directory / f"{name}.json"
        text = dumps(entry)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(f"wrote {path.name}")
    for path in sorted(directory.glob("*.json")):
        if path.stem not in entries:
            path.unlink()
            changed.append(f"removed {path.name}")
    return changed


def update_requested() -> bool:
    """Whether ``UPDATE_TOOL_CATALOG`` asks for the catalog to be rewritten."""
    return os.environ.get(UPDATE_ENV, "").strip().lower() in ("1", "true", "yes")


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (default) or ``--check`` the catalog; exit 1 when ``--check`` finds a difference."""
    parser = argparse.ArgumentParser(prog="python -m mcp_storyboard.server.catalog", description=__doc__)
    parser.add_argument("--check", action="store_true", help="report differences, change nothing")
    parser.add_argument("--sizes", action="store_true", help="print what each tool costs in tools/list")
    parser.add_argument("--dir", type=Path, default=CATALOG_DIR, help=f"catalog directory (default {CATALOG_DIR})")
    args = parser.parse_args(argv)
    entries = anyio.run(catalog_entries)
    if args.sizes:
        print(size_report(entries, largest=len(entries)))
        return 0
    if args.check:
        problems = check_catalog(entries, args.dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(HOW_TO_UPDATE, file=sys.stderr)
        return 1 if problems else 0
    for line in write_catalog(entries, args.dir) or [f"{len(entries)} tool(s), catalog unchanged"]:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
