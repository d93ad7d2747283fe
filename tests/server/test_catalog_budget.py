"""The catalog's byte budget (``tools/list`` is read into every session's context) and the lean schemas that keep
it: output schemas without descriptions, defaults, bounds or ``required``; inputs keep what guides a caller."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mcp import Client

from mcp_storyboard.server.build import (
    OUTPUT_ONLY_INPUT_KEYWORDS,
    lean_output_schema,
    without_model_docstrings,
    without_null_defaults,
)
from mcp_storyboard.server.catalog import (
    AVERAGE_BUDGET,
    TOOL_BUDGET,
    Entry,
    catalog_entries,
    over_budget,
    size_report,
    wire_size,
)

from .conftest import example_server

pytestmark = pytest.mark.anyio


def keywords(schema: Any) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """``(keyword, value, the schema holding it)`` everywhere in ``schema`` (names under properties/$defs skipped)."""
    if isinstance(schema, list):
        for item in schema:
            yield from keywords(item)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("properties", "$defs") and isinstance(value, dict):
                for sub in value.values():
                    yield from keywords(sub)
            else:
                yield key, value, schema
                yield from keywords(value)


async def test_the_catalog_of_every_toolset_keeps_the_byte_budget() -> None:
    entries = await catalog_entries()
    report = size_report(entries)
    print(report)  # the five largest tools, for whoever adds the next one
    problems = over_budget(entries)
    assert not problems, "\n".join(problems) + "\n" + report


def entry(name: str, description_bytes: int) -> Entry:
    return {"name": name, "description": "x" * description_bytes, "toolset": "ignored", "operation": "read"}


def test_over_budget_names_the_average_and_every_tool_over_the_tool_budget() -> None:
    overhead = wire_size(entry("a", 0))
    fine = {"a": entry("a", AVERAGE_BUDGET - overhead), "b": entry("b", AVERAGE_BUDGET - overhead)}
    assert over_budget(fine) == []
    big = {**fine, "c": entry("c", TOOL_BUDGET + 1)}
    assert over_budget(big)[0].startswith("the catalog averages ")
    assert over_budget(big)[1] == f"c is {wire_size(big['c'])} B, over the {TOOL_BUDGET} B a tool may cost"
    assert size_report(big).splitlines()[1].startswith(f"  c: {wire_size(big['c'])} B (description ")


def test_a_tool_costs_its_wire_fields_as_compact_utf8_json() -> None:
    one = {"name": "get_thing", "title": "Ünïcode", "toolset": "storyboard", "operation": "read"}
    wire = {"name": "get_thing", "title": "Ünïcode"}
    assert wire_size(one) == len(json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def test_a_lean_output_schema_keeps_types_nullable_any_of_enums_and_refs_and_drops_the_rest() -> None:
    schema = {
        "$defs": {"Entry": {"description": "An entry.", "properties": {"url": {"type": "string", "maxLength": 9}},
                            "required": ["url"], "type": "object"}},
        "description": "A result.",
        "properties": {
            "description": {"default": "", "description": "A field named description.", "type": "string"},
            "when": {"anyOf": [{"format": "date-time", "type": "string"}, {"type": "null"}], "default": None},
            "kind": {"enum": ["a", "b"], "type": "string"},
            "entries": {"items": {"$ref": "#/$defs/Entry"}, "maxItems": 3, "type": "array"},
            "settings": {"description": "Free-form settings.", "type": "object"},
            "size": {"exclusiveMinimum": 0, "maximum": 10, "type": "number"},
        },
        "required": ["description"],
        "type": "object",
    }
    assert lean_output_schema(schema) == {
        "$defs": {"Entry": {"properties": {"url": {"type": "string"}}, "type": "object"}},
        "properties": {
            "description": {"type": "string"},
            "when": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "kind": {"enum": ["a", "b"], "type": "string"},
            "entries": {"items": {"$ref": "#/$defs/Entry"}, "type": "array"},
            "settings": {"description": "Free-form settings.", "type": "object"},  # says what nothing else does
            "size": {"type": "number"},
        },
        "type": "object",
    }


def test_an_input_schema_loses_only_null_defaults_and_argument_model_docstrings() -> None:
    schema = {
        "$defs": {"Patch": {"description": "Docstring.", "properties": {"name": {"description": "New name."}}},
                  "Mode": {"description": "An enum's own text stays.", "enum": ["a"]}},
        "properties": {"patch": {"$ref": "#/$defs/Patch", "description": "Only the fields to change."},
                       "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                       "limit": {"default": 50, "maximum": 100, "type": "integer"}},
        "type": "object",
    }
    lean = without_null_defaults(without_model_docstrings(schema))
    assert lean["$defs"]["Patch"] == {"properties": {"name": {"description": "New name."}}}
    assert lean["$defs"]["Mode"] == schema["$defs"]["Mode"]
    assert lean["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert lean["properties"]["limit"] == schema["properties"]["limit"]
    assert lean["properties"]["patch"] == schema["properties"]["patch"]


async def test_live_output_schemas_are_lean_and_inputs_keep_their_guidance() -> None:
    entries = await catalog_entries()
    for name, tool in entries.items():
        for key, value, holder in keywords(tool["outputSchema"]):
            if key == "description":
                assert holder.get("type") == "object" and "properties" not in holder, (name, value)
            else:
                assert key not in OUTPUT_ONLY_INPUT_KEYWORDS, (name, key)
    create_clip = entries["create_clip"]["inputSchema"]["properties"]
    assert create_clip["name"]["maxLength"] == 200 and create_clip["name"]["description"]
    assert create_clip["duration"]["default"] == 5.0 and "exclusiveMinimum" in create_clip["duration"]


async def test_the_client_validates_results_against_the_lean_schema(
    connect: Callable[..., Client],
) -> None:
    async with connect(example_server()) as client:
        assert (await client.call_tool("get_thing", {"thing_id": "t1"})).structured_content == {"id": "t1",
                                                                                                  "name": "lamp"}
    # A server publishing a schema the same result breaks: the client refuses the result, so it does check it.
    server = example_server()
    tool = server._tool_manager.get_tool("get_thing")  # noqa: SLF001  (test-only surgery on the built server)
    assert tool is not None
    tool.fn_metadata.output_schema = {"properties": {"id": {"type": "integer"}}, "type": "object"}
    async with connect(server) as client:
        with pytest.raises(RuntimeError, match="Invalid structured content returned by tool get_thing"):
            await client.call_tool("get_thing", {"thing_id": "t1"})
