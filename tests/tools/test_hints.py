"""Hints name only tools and arguments that exist: the too-large advice of every tool, every ``hint=`` written
in the package, every tool description, and the field lists of empty updates."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

import mcp_storyboard
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.server.errors import narrowing
from mcp_storyboard.server.registry import ToolSpec, discover
from tests.seed import seed_project, seed_scene
from tests.tools.conftest import ToolClient

SPECS: dict[str, ToolSpec] = {s.name: s for s in discover().tools}
IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z]+\b")


def arguments_of(spec: ToolSpec) -> set[str]:
    """A tool's arguments and the fields of its object arguments (patches)."""
    names: set[str] = set()
    for name, parameter in inspect.signature(spec.handler).parameters.items():
        if name == spec.context_param:
            continue
        names.add(name)
        annotation = inspect.get_annotations(spec.handler, eval_str=True).get(name, parameter.annotation)
        for arg in _flatten(annotation):
            names.update(getattr(arg, "model_fields", {}))
    return names


def _flatten(annotation: Any) -> list[Any]:
    import typing

    out = [annotation]
    for arg in typing.get_args(annotation):
        out += _flatten(arg)
    return out


ALL_ARGUMENTS = set().union(*(arguments_of(s) for s in SPECS.values()))
VERBS = {name.split("_", 1)[0] for name in SPECS}


def named_tools(text: str) -> set[str]:
    """Identifiers in ``text`` shaped like a tool name (a tool verb, then words) that are not argument names."""
    return {t for t in IDENTIFIER.findall(text) if "_" in t and t.split("_", 1)[0] in VERBS and t not in ALL_ARGUMENTS}


def check(text: str, tool: str | None) -> list[str]:
    """What ``text`` names that does not exist: unknown tools, and arguments neither ``tool`` nor a tool named in
    the text has."""
    problems = [f"no tool {t}" for t in named_tools(text) if t not in SPECS]
    scope = {tool} if tool else set()
    scope |= {t for t in named_tools(text) if t in SPECS}
    allowed = set().union(*(arguments_of(SPECS[t]) for t in scope)) if scope else ALL_ARGUMENTS
    for assigned in re.findall(r"\b([a-z][a-z0-9_]*)(?:=|: (?:true|false)\b)", text):
        if assigned not in allowed:
            problems.append(f"no argument {assigned} in {sorted(scope)}")
    if tool is not None:
        for word in set(IDENTIFIER.findall(text)) & ALL_ARGUMENTS - allowed:
            if "_" in word or word in ("limit", "cursor", "confirm"):
                problems.append(f"no argument {word} in {sorted(scope)}")
    return problems


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_the_too_large_advice_of_every_tool_names_what_it_has(spec: ToolSpec) -> None:
    assert check(narrowing(spec), spec.name) == []


def test_get_scene_advice_points_to_list_clips_not_to_arguments_it_lacks() -> None:
    text = narrowing(SPECS["get_scene"])
    assert "list_clips (limit, cursor)" in text
    assert {"limit", "cursor"} - arguments_of(SPECS["get_scene"]) == {"limit", "cursor"}
    assert check("call get_scene again with a smaller limit", "get_scene") == ["no argument limit in ['get_scene']"]


def hint_texts() -> list[tuple[str, str]]:
    """``(where, the literal text)`` of every ``hint=`` argument in the package (f-string holes dropped)."""
    found: list[tuple[str, str]] = []
    root = Path(mcp_storyboard.__file__).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "hint":
                text = " ".join(c.value for c in ast.walk(node.value)
                                if isinstance(c, ast.Constant) and isinstance(c.value, str))
                if text:
                    found.append((f"{path.relative_to(root)}:{node.value.lineno}", text))
    return found


def test_every_written_hint_names_tools_and_arguments_that_exist() -> None:
    texts = hint_texts()
    assert len(texts) > 30
    problems = [(where, problem) for where, text in texts for problem in check(text, None)]
    assert problems == []


def test_every_tool_description_names_tools_that_exist() -> None:
    problems = [(spec.name, t) for spec in SPECS.values() for t in named_tools(spec.description) if t not in SPECS]
    assert problems == []


async def test_a_scene_too_large_for_get_scene_is_refused_with_a_way_that_works(tools: ToolClient) -> None:
    project_id = await seed_project(tools.services)
    scene = await seed_scene(tools.services, project_id, "Long")
    # get_scene lists clip summaries (about 300 bytes each with a 200-character name): 1,000 are over 256 KB.
    clips = [Clip(project_id=project_id, scene_id=scene.id, name=f"C{i}".ljust(200, "x"), order=i) for i in range(1000)]
    repository = tools.services.repositories.clips
    await repository.collection.insert_many([repository.to_document(c) for c in clips])
    text = await tools.refused("get_scene", scene_id=scene.id)
    assert text.startswith("[too-large] the result of get_scene is "), text
    assert "list_clips (limit, cursor)" in text and "next cursor page" not in text
    pages = [await tools.call("list_clips", scene_id=scene.id, limit=5)]
    while pages[-1]["next_cursor"] is not None:
        pages.append(await tools.call("list_clips", scene_id=scene.id, limit=100, cursor=pages[-1]["next_cursor"]))
    assert sum(len(p["items"]) for p in pages) == 1000


EMPTY_UPDATES: list[Any] = [
    ("update_project", {"patch": {}}, "project"),
    ("update_clip", {"changes": {}}, "clip"),
    ("update_style_template", {"patch": {}}, "template"),
    ("update_scene", {}, "scene"),
    ("update_character", {"patch": {}}, "character"),
]


@pytest.mark.parametrize(("tool", "arguments", "kind"), EMPTY_UPDATES)
async def test_an_empty_update_lists_only_fields_the_tool_takes(
    tools: ToolClient, tool: str, arguments: dict[str, Any], kind: str
) -> None:
    project_id = await seed_project(tools.services)
    scene = await tools.call("create_scene", project_id=project_id, name="S")
    ids = {
        "project": {"project_id": project_id},
        "scene": {"scene_id": scene["id"]},
        "clip": {"clip_id": (await tools.call("create_clip", scene_id=scene["id"]))["id"]},
        "template": {"template_id": (await tools.call("create_style_template", name="T"))["id"]},
        "character": {"character_id": (await tools.call("create_character", project_id=project_id, name="C"))["id"]},
    }[kind]
    text = await tools.refused(tool, **ids, **arguments)
    assert text.startswith("[invalid-argument]"), text
    listed = re.split(r"allowed values: |at least one of:? ", text, maxsplit=1, flags=re.IGNORECASE)
    assert len(listed) == 2, text
    names = re.findall(r"[a-z_]+", listed[1].split("(")[0].split(".")[0])
    assert names and set(names) - {"or", "and"} <= arguments_of(SPECS[tool]), (tool, text)
