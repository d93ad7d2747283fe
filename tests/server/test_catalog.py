"""The tools/ catalog: the live tools must match it; drift, missing and stale files fail with how to update."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcp_storyboard.server.catalog import (
    CATALOG_DIR,
    HOW_TO_UPDATE,
    canonical,
    catalog_entries,
    check_catalog,
    dumps,
    main,
    update_requested,
    write_catalog,
)
from mcp_storyboard.server.dynamic_toolsets import META_SPECS

from .conftest import EXAMPLE

pytestmark = pytest.mark.anyio


async def test_the_tool_catalog_matches_the_live_tools() -> None:
    entries = await catalog_entries()
    if update_requested():
        write_catalog(entries, CATALOG_DIR)
    problems = check_catalog(entries, CATALOG_DIR)
    assert not problems, "\n\n".join(problems) + "\n\n" + HOW_TO_UPDATE


async def test_a_catalog_entry_holds_what_tools_list_shows_plus_toolset_and_operation() -> None:
    entries = await catalog_entries(EXAMPLE.tools)
    entry = entries["delete_thing"]
    assert set(entry) == {"name", "title", "description", "inputSchema", "outputSchema", "annotations", "toolset",
                          "operation"}
    assert (entry["toolset"], entry["operation"]) == ("storyboard", "delete")
    assert entry["annotations"] == {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": True,
                                    "openWorldHint": False}
    assert set(entries) == {s.name for s in EXAMPLE.tools}  # every toolset, users included


async def test_a_written_catalog_has_no_problems_and_sorted_keys(tmp_path: Path) -> None:
    entries = await catalog_entries(EXAMPLE.tools)
    written = write_catalog(entries, tmp_path)
    assert len(written) == len(entries)
    assert check_catalog(entries, tmp_path) == []
    text = (tmp_path / "get_thing.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert write_catalog(entries, tmp_path) == []


async def test_order_of_required_and_enum_lists_is_not_drift(tmp_path: Path) -> None:
    entries = await catalog_entries(EXAMPLE.tools)
    write_catalog(entries, tmp_path)
    path = tmp_path / "rename_thing.json"
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert len(stored["inputSchema"]["required"]) == 2  # output schemas carry no required list (lean)
    stored["inputSchema"]["required"] = list(reversed(stored["inputSchema"]["required"]))
    path.write_text(json.dumps(stored), encoding="utf-8")
    assert check_catalog(entries, tmp_path) == []


async def test_a_drifted_entry_fails_with_a_diff(tmp_path: Path) -> None:
    entries = await catalog_entries(EXAMPLE.tools)
    write_catalog(entries, tmp_path)
    path = tmp_path / "get_thing.json"
    path.write_text(path.read_text(encoding="utf-8").replace("One thing by id.", "Old text."), encoding="utf-8")
    problems = check_catalog(entries, tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("tools/get_thing.json drifted from the live tool:")
    assert '-  "description": "Old text.",' in problems[0] and '+  "description": "One thing by id.",' in problems[0]


async def test_a_missing_entry_and_a_stale_file_both_fail(tmp_path: Path) -> None:
    entries = await catalog_entries(EXAMPLE.tools)
    write_catalog(entries, tmp_path)
    (tmp_path / "list_users.json").unlink()
    (tmp_path / "old_tool.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "broken_json.json").write_text("{not json", encoding="utf-8")
    assert check_catalog(entries, tmp_path) == [
        "tools/list_users.json is missing",
        "tools/broken_json.json is stale: no live tool is named 'broken_json'",
        "tools/old_tool.json is stale: no live tool is named 'old_tool'",
    ]
    assert sorted(write_catalog(entries, tmp_path)) == ["removed broken_json.json", "removed old_tool.json",
                                                        "wrote list_users.json"]


def test_canonical_sorts_only_required_and_enum_lists() -> None:
    value = {"required": ["b", "a"], "enum": [2, "x", 1], "items": ["b", "a"], "properties": {"required": {}}}
    assert canonical(value) == {"required": ["a", "b"], "enum": ["x", 1, 2], "items": ["b", "a"],
                                "properties": {"required": {}}}
    assert dumps({"b": 1, "a": [2, 1]}) == '{\n  "a": [\n    2,\n    1\n  ],\n  "b": 1\n}\n'


def test_the_catalog_command_checks_and_rewrites_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp_storyboard.server import catalog

    monkeypatch.setattr(catalog, "discover", lambda: EXAMPLE)
    assert main(["--check", "--dir", str(tmp_path)]) == 1
    assert "UPDATE_TOOL_CATALOG=1" in capsys.readouterr().err
    assert main(["--dir", str(tmp_path)]) == 0
    assert main(["--check", "--dir", str(tmp_path)]) == 0
    expected = [*EXAMPLE.tools, *META_SPECS]  # the project's catalog holds the --dynamic-toolsets tools too
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{s.name}.json" for s in expected)


def test_update_is_requested_only_by_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPDATE_TOOL_CATALOG", raising=False)
    assert not update_requested()
    monkeypatch.setenv("UPDATE_TOOL_CATALOG", "1")
    assert update_requested()


def test_every_bound_in_the_catalog_is_a_json_schema_keyword() -> None:
    """Pydantic writes ``ge``/``le`` (which clients ignore) instead of ``minimum``/``maximum`` when a bound sits in a
    ``Field`` nested inside another ``Annotated`` alias; the wait tools' timeouts and the contact sheet's numbers
    once did."""
    found = []
    for path in sorted(Path(CATALOG_DIR).glob("*.json")):
        def walk(node: object, where: str) -> None:
            if isinstance(node, dict):
                found.extend(f"{path.stem}{where}.{k}" for k in ("ge", "le", "gt", "lt") if k in node)
                for key, value in node.items():
                    walk(value, f"{where}.{key}")
            elif isinstance(node, list):
                for index, value in enumerate(node):
                    walk(value, f"{where}[{index}]")
        walk(json.loads(path.read_text()), "")
    assert found == []
