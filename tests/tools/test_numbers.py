"""Numbers in tool arguments: ``true``/``false`` are never numbers, and create and update share each field's caps.

Walks the live catalog, so a numeric argument added later is covered without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pydantic
import pytest

from mcp_storyboard.models import Character, Clip, Project, Scene, StyleTemplate
from tests.schemas import model_classes, number_branch, resolve
from tests.tools.conftest import ToolClient

NUMBER_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
DOCUMENTS: dict[str, type[pydantic.BaseModel]] = {
    "project": Project, "scene": Scene, "clip": Clip, "character": Character, "style_template": StyleTemplate,
}  # fmt: skip
"""The stored document each ``create_<noun>`` writes."""


def numeric_properties(tool: Any) -> Iterator[tuple[list[str], dict[str, Any]]]:
    """``(path, number schema)`` of every numeric argument, top level or inside an object argument."""
    root = tool.input_schema
    for name, prop in root.get("properties", {}).items():
        prop = resolve(prop, root)
        if (branch := number_branch(prop)) is not None:
            yield [name], branch
        for inner, inner_prop in prop.get("properties", {}).items():
            if (branch := number_branch(resolve(inner_prop, root))) is not None:
                yield [name, inner], branch


def dummy(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """A value the schema accepts (ids need not exist: validation runs before any lookup)."""
    schema = resolve(schema, root)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":  # its required properties filled in, so that only the argument under test is wrong
        return {name: dummy(schema["properties"][name], root) for name in schema.get("required", [])}
    if kind == "array":
        item = dummy(schema["items"], root) if "items" in schema else "abc"
        return [item] * max(1, schema.get("minItems", 1))
    if kind in ("number", "integer"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return "abc"


VALID_STRINGS: dict[str, str] = {
    # Required string arguments with a checked shape (a server URL): valid, so that the number's error is the first.
    "url": "http://127.0.0.1:8188",
}
VALID_OBJECTS: dict[str, dict[str, Any]] = {
    # Required object arguments whose strings are checked against a list (ComfyUI's sampler and scheduler names):
    # valid around the number under test, so that its error is the first.
    "parameters": {"steps": 20, "cfg_scale": 7.0, "sampler_name": "euler", "scheduler": "normal"},
}


async def test_every_numeric_argument_refuses_true_and_false(tools: ToolClient) -> None:
    checked: list[str] = []
    for tool in (await tools.client.list_tools()).tools:
        root = tool.input_schema
        required = {name: VALID_STRINGS.get(name) or dummy(root["properties"][name], root)
                    for name in root.get("required", [])}
        for path, _ in numeric_properties(tool):
            for flag in (True, False):
                arguments = dict(required)
                if len(path) == 1:
                    arguments[path[0]] = flag
                else:
                    arguments[path[0]] = {**VALID_OBJECTS.get(path[0], {}), path[1]: flag}
                text = await tools.refused(tool.name, **arguments)
                assert text.startswith(f"[invalid-argument] {'.'.join(path)}: "), (tool.name, text)
                assert "not true or false" in text, (tool.name, text)
            checked.append(f"{tool.name}.{'.'.join(path)}")
    # The fields of the issue, so the walk cannot silently find nothing.
    for expected in ("create_clip.duration", "create_clip.timeline_position", "create_clip.order",
                     "set_clip_timing.duration", "move_clip.order", "create_scene.position",
                     "create_style_template.style_strength", "update_style_template.patch.style_strength",
                     "create_project.music_duration", "update_project.patch.music_duration", "list_clips.limit"):
        assert expected in checked


async def test_numeric_strings_are_accepted_alike_by_create_and_update(tools: ToolClient) -> None:
    project = await tools.call("create_project", name="P", music_duration="12.5")
    created = await tools.call("get_project", project_id=project["id"])
    await tools.call("update_project", project_id=project["id"], patch={"music_duration": "20"})
    updated = await tools.call("get_project", project_id=project["id"])
    assert (created["music_duration"], updated["music_duration"]) == (12.5, 20.0)
    scene = await tools.call("create_scene", project_id=project["id"], name="S")
    clip = await tools.call("create_clip", scene_id=scene["id"], duration="3", timeline_position="1.5")
    timed = await tools.call("set_clip_timing", clip_id=clip["id"], duration="4")
    assert (clip["changed"]["duration"], clip["changed"]["timeline_position"], timed["changed"]["duration"]) == (
        3.0, 1.5, 4.0)
    assert (await tools.call("get_clip", clip_id=clip["id"]))["duration"] == 4.0


async def test_a_boolean_duration_makes_no_clip(tools: ToolClient) -> None:
    project = await tools.call("create_project", name="P")
    scene = await tools.call("create_scene", project_id=project["id"], name="S")
    text = await tools.refused("create_clip", scene_id=scene["id"], duration=True)
    assert text.startswith("[invalid-argument] duration: Input should be a number, not true or false"), text


async def test_create_update_and_the_stored_document_share_each_numeric_fields_caps(tools: ToolClient) -> None:
    listed = {t.name: t for t in (await tools.client.list_tools()).tools}
    compared = 0
    for name, create in listed.items():
        if not name.startswith("create_"):
            continue
        noun = name.removeprefix("create_")
        created = {p[-1]: s for p, s in numeric_properties(create)}
        others = [listed[t] for t in (f"update_{noun}", "set_clip_timing", "move_clip") if t in listed]
        # Output schemas are lean (no bounds); the stored document's caps are its model's.
        document = DOCUMENTS.get(noun)
        stored: dict[str, dict[str, Any]] = {}
        if document is not None:
            schema = document.model_json_schema()
            for field, prop in schema.get("properties", {}).items():
                if (branch := number_branch(resolve(prop, schema))) is not None:
                    stored[field] = branch
        for other in others if noun == "clip" else others[:1]:
            for path, schema in numeric_properties(other):
                if path[-1] in created:
                    assert caps(schema) == caps(created[path[-1]]), (name, other.name, path)
                    compared += 1
        for field, schema in created.items():
            if field in stored:
                assert caps(schema) == caps(stored[field]), (name, document, field)
                compared += 1
    assert compared >= 8


def caps(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: float(schema[k]) for k in NUMBER_KEYWORDS if k in schema}


@pytest.mark.parametrize("model", list(model_classes()), ids=lambda m: m.__name__)
def test_every_numeric_field_of_every_model_refuses_true(model: type[pydantic.BaseModel]) -> None:
    schema = model.model_json_schema()
    for field, prop in schema.get("properties", {}).items():
        if number_branch(resolve(prop, schema)) is None or "boolean" in str(prop):
            continue
        with pytest.raises(pydantic.ValidationError) as refused:
            model.model_validate({field: True})
        kinds = {e["type"] for e in refused.value.errors() if e["loc"][:1] == (field,)}
        assert kinds == {"number_not_bool"}, (model.__name__, field, kinds)
