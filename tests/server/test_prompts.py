"""Prompt files: parsing and template checks, listing and rendering through a client, invalid-params errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from mcp_storyboard.server import prompts
from mcp_storyboard.server.prompts import (
    SOURCE_DIR,
    load_prompts,
    parse_prompt,
    prompts_dir,
)

from .conftest import example_server

Connect = Callable[..., Client]

GOOD = """---
name: greet
title: Greet
description: Say hello.
arguments:
  - name: who
    description: Whom to greet.
    required: true
  - name: tone
    description: How.
    default: warmly
---
Greet {who} {tone}. Literal braces: {{like this}}.
"""


def test_a_prompt_file_renders_its_arguments_and_keeps_literal_braces() -> None:
    spec = parse_prompt(GOOD, source="greet.md")
    assert [(a.name, a.required) for a in spec.arguments] == [("who", True), ("tone", False)]
    assert spec.render({"who": "Ada"}) == "Greet Ada warmly. Literal braces: {like this}.\n"


@pytest.mark.parametrize("value", ["{tone}", "{0}", "{who.__class__}", "}{", "{{", "{", "%(x)s {!r}"])
def test_braces_in_argument_values_are_data_not_format_directives(value: str) -> None:
    spec = parse_prompt(GOOD, source="greet.md")
    assert spec.render({"who": value, "tone": "softly"}) == f"Greet {value} softly. Literal braces: {{like this}}.\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hi {nobody}", "{nobody} is not a declared argument"),
        ("Hi {who.__class__}", "{who.__class__} is not a declared argument"),
        ("Hi {who!r}", "{who!r} is not a declared argument"),
        ("Hi {who:>10}", "{who:>10} is not a declared argument"),
        ("Hi {0}", "{0} is not a declared argument"),
        ("Hi {who", "template is malformed"),
    ],
)
def test_a_template_field_that_is_not_a_plain_argument_fails_at_load(body: str, message: str) -> None:
    text = GOOD.split("---\nGreet")[0] + "---\n" + body + "\n"
    with pytest.raises(ValueError, match="greet.md") as caught:
        parse_prompt(text, source="greet.md")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter\n", "starts with YAML front matter"),
        ("---\nname: [unclosed\n---\nbody\n", "not valid YAML"),
        ("---\n- a list\n---\nbody\n", "must be a mapping"),
        ("---\nname: Bad-Name\ntitle: t\ndescription: d\n---\nbody\n", "name"),
        ("---\nname: x\ntitle: t\ndescription: d\nextra: 1\n---\nbody\n", "extra"),
    ],
)
def test_an_invalid_prompt_file_names_the_file_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="bad.md") as caught:
        parse_prompt(text, source="bad.md")
    assert message in str(caught.value)


def test_a_prompt_whose_name_differs_from_its_file_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "hello.md").write_text(GOOD, encoding="utf-8")
    with pytest.raises(ValueError, match="must match the file name"):
        load_prompts(tmp_path)


def test_the_shipped_prompts_load_from_the_checkout_without_the_bundled_package() -> None:
    assert prompts_dir() == SOURCE_DIR
    assert [p.name for p in load_prompts()] == [
        "plan_storyboard", "prepare_for_edit", "review_continuity", "write_clip_prompts"
    ]


def test_an_installed_bundled_prompt_package_wins_over_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "bundled_prompts_for_test"
    bundle.mkdir()
    (bundle / "greet.md").write_text(GOOD, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(prompts, "BUNDLED_PACKAGE", "bundled_prompts_for_test")
    assert [p.name for p in load_prompts()] == ["greet"]


@pytest.mark.parametrize("name", ["plan_storyboard", "write_clip_prompts", "review_continuity", "prepare_for_edit"])
def test_the_shipped_prompts_name_tools_of_the_storyboard(name: str) -> None:
    spec = next(p for p in load_prompts() if p.name == name)
    rendered = spec.render({a.name: f"<{a.name}>" for a in spec.arguments})
    assert "get_project_tree" in rendered
    assert all(f"<{a.name}>" in rendered for a in spec.arguments)


@pytest.mark.anyio
async def test_prompts_are_listed_with_their_arguments(connect: Connect) -> None:
    async with connect(example_server()) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert set(prompts) == {"plan_storyboard", "prepare_for_edit", "write_clip_prompts", "review_continuity"}
    plan = prompts["plan_storyboard"]
    assert plan.title == "Plan a storyboard"
    assert [(a.name, a.required) for a in plan.arguments or []] == [
        ("source", True), ("project_id", False), ("target_duration", False), ("style_notes", False),
    ]


@pytest.mark.anyio
async def test_a_prompt_renders_argument_values_with_braces_verbatim(connect: Connect) -> None:
    synopsis = "A robot {source} sings }{ about {{JSON}} and {project_id!r}"
    async with connect(example_server()) as client:
        result = await client.get_prompt("plan_storyboard", {"source": synopsis, "project_id": "p-1"})
    assert len(result.messages) == 1 and result.messages[0].role == "user"
    text = result.messages[0].content.text  # type: ignore[union-attr]
    assert f"<source>\n{synopsis}\n</source>" in text
    assert "Project: p-1" in text and "Target duration (seconds): (not given)" in text


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("no_such_prompt", {}, "Unknown prompt 'no_such_prompt'; prompts: plan_storyboard, prepare_for_edit, review_continuity, "
                               "write_clip_prompts"),
        ("review_continuity", {}, "Prompt 'review_continuity' needs argument project_id"),
        ("review_continuity", {"project_id": "  "}, "Prompt 'review_continuity' needs argument project_id"),
        ("review_continuity", {"project_id": "p1", "colour": "red"}, "Prompt 'review_continuity' has no argument "
                                                                     "colour; arguments: apply_fixes, project_id, "
                                                                     "scene_id"),
    ],
)
async def test_a_prompt_request_the_server_cannot_render_answers_invalid_params(
    connect: Connect, name: str, arguments: dict[str, str], message: str
) -> None:
    async with connect(example_server()) as client:
        with pytest.raises(MCPError) as caught:
            await client.get_prompt(name, arguments)
    assert caught.value.error.code == INVALID_PARAMS
    assert caught.value.error.message == message
