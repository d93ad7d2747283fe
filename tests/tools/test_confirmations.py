"""Destructive tools need a yes: ``confirm: true``, or the user's accept when the client can be asked.

Every tool the catalog marks ``destructiveHint: true`` is called here with arguments that would succeed (the world
of ``test_read_only_services``): without ``confirm`` and a client that cannot be asked it is refused with
``[confirmation-required]`` and nothing changes; with ``confirm: true`` it runs; with a client that answers
elicitation (2026-era ``InputRequiredResult`` round trip on memory://, 2025-era ``elicitation/create`` on the
embedded database) an accept with yes runs it, and a decline, a cancel or an accept with no changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from mcp.client.context import ClientRequestContext
from mcp.server.mcpserver import Context
from mcp.types import ElicitRequestParams, ElicitResult
from pydantic import Field

from mcp_storyboard.server.build import make_tool
from mcp_storyboard.server.confirmation import CONFIRM_DESCRIPTION, ConfirmArg, needs_confirmation
from mcp_storyboard.server.registry import ToolRegistry, discover
from mcp_storyboard.server.taxonomy import TOOLSETS
from mcp_storyboard.server.tools._args import ProjectId
from mcp_storyboard.server.tools.projects import ProjectDeletion
from tests.tools.conftest import LEGS, ToolClient, tool_client
from tests.tools.test_read_only_services import CALLS, World, build_world

CATALOG = Path(__file__).resolve().parents[2] / "tools"
ORDER = ("remove_clip_media", "remove_gallery_item", "delete_clip", "delete_scene", "delete_character",
         "delete_style_template", "delete_media", "delete_facefusion_preset", "delete_model",
         "delete_comfyui_server", "delete_project")
"""Every destructive tool, in an order where none takes another's target with it (the project goes last)."""
GALLERY_URL = "https://x.test/a.png"

Reply = Literal["yes", "no", "decline", "cancel"]


def destructive_in_catalog() -> set[str]:
    entries = (json.loads(path.read_text()) for path in CATALOG.glob("*.json"))
    return {e["name"] for e in entries if e.get("annotations", {}).get("destructiveHint") is True}


def test_every_destructive_tool_is_gated() -> None:
    """A destructive tool added later fails here until it is in ORDER (so the tests below call it too)."""
    specs = {spec.name: spec for spec in discover().tools}
    gated = {name for name, spec in specs.items() if needs_confirmation(spec)}
    assert gated == destructive_in_catalog() == set(ORDER)
    for name, spec in specs.items():
        tool = make_tool(spec)
        assert bool(tool.resolved_params) == (name in gated), name
        if name in gated:
            assert tool.parameters["properties"]["confirm"] == {
                "default": False, "description": CONFIRM_DESCRIPTION, "type": "boolean"}
            assert "confirm" not in tool.parameters.get("required", [])


def test_a_destructive_tool_without_confirm_cannot_be_declared() -> None:
    tool = ToolRegistry("storyboard")

    async def delete_thing(project_id: ProjectId, ctx: Context) -> ProjectDeletion:  # type: ignore[type-arg]
        """Delete a thing."""
        raise AssertionError("never called")

    with pytest.raises(TypeError, match="confirm: ConfirmArg = False"):
        tool(title="Delete a thing", operation="delete")(delete_thing)

    async def delete_other(
        project_id: ProjectId, ctx: Context,  # type: ignore[type-arg]
        confirm: Annotated[bool, Field(description="another wording")] = False,
    ) -> ProjectDeletion:
        """Delete another thing."""
        raise AssertionError("never called")

    with pytest.raises(TypeError, match="confirm: ConfirmArg = False"):
        tool(title="Delete another thing", operation="delete")(delete_other)

    async def delete_fine(
        project_id: ProjectId, ctx: Context, confirm: ConfirmArg = False  # type: ignore[type-arg]
    ) -> ProjectDeletion:
        """Delete a fine thing."""
        raise AssertionError("never called")

    tool(title="Delete a fine thing", operation="delete")(delete_fine)
    assert [spec.name for spec in tool] == ["delete_fine"]


async def world_of(tools: ToolClient) -> World:
    world = await build_world(tools)
    await tools.services.database.collection("characters").update_one(
        {"id": world.character}, {"$set": {"facefusion_output_gallery.enhanced_faces": [GALLERY_URL]}})
    return world


def arguments(name: str, world: World) -> dict[str, Any]:
    """The tool's arguments without ``confirm``."""
    return {k: v for k, v in CALLS[name](world).items() if k != "confirm"}


async def test_without_confirm_every_destructive_tool_is_refused_and_changes_nothing(tools: ToolClient) -> None:
    world = await world_of(tools)
    for name in ORDER:
        for extra in ({}, {"confirm": False}):
            text = await tools.refused(name, **arguments(name, world), **extra)
            assert text.startswith(f"[confirmation-required] {name} deletes data"), text
            assert "confirm: true" in text and "nothing changed" in text


async def test_with_confirm_every_destructive_tool_runs(tools: ToolClient) -> None:
    world = await world_of(tools)
    for name in ORDER:
        before = await tools.snapshot()
        await tools.call(name, **arguments(name, world), confirm=True)
        assert await tools.snapshot() != before, f"{name} changed nothing"
    assert await tools.services.database.collection("projects").count_documents({"id": world.project}) == 0


@dataclass
class User:
    """The person behind the client: answers each question with ``reply`` and remembers what was asked."""

    reply: Reply = "yes"
    asked: list[str] = field(default_factory=list)

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(params.message)
        assert params.requested_schema["properties"]["confirm"]["type"] == "boolean"
        if self.reply in ("decline", "cancel"):
            return ElicitResult(action=self.reply)
        return ElicitResult(action="accept", content={"confirm": self.reply == "yes"})


@pytest.fixture(params=LEGS, ids=lambda leg: f"{leg[0]}-{leg[1]}")
async def asking(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ToolClient, User]]:
    """A client that declares elicitation, answered by a ``User``."""
    user = User()
    async with tool_client(request, client_options={"elicitation_callback": user}, toolsets=TOOLSETS) as client:
        yield client, user


async def test_a_yes_from_the_user_runs_every_destructive_tool(asking: tuple[ToolClient, User]) -> None:
    tools, user = asking
    world = await world_of(tools)
    for name in ORDER:
        before = await tools.snapshot()
        await tools.call(name, **arguments(name, world))
        assert await tools.snapshot() != before, f"{name} changed nothing"
        question = user.asked[-1]
        assert question.startswith(f"Allow {name}(") and question.endswith("It cannot be undone."), question
    assert len(user.asked) == len(ORDER)
    assert "project_id=" in user.asked[-1] and "everything under it" in user.asked[-1]


@pytest.mark.parametrize("reply", ["no", "decline", "cancel"])
async def test_no_decline_or_cancel_changes_nothing(asking: tuple[ToolClient, User], reply: Reply) -> None:
    tools, user = asking
    user.reply = reply
    world = await world_of(tools)
    for name in ORDER:
        text = await tools.refused(name, **arguments(name, world))
        assert text == f"[confirmation-declined] the user did not approve {name}; nothing changed"
    assert len(user.asked) == len(ORDER)


async def test_confirm_true_is_not_asked_again(asking: tuple[ToolClient, User]) -> None:
    tools, user = asking
    user.reply = "no"
    world = await world_of(tools)
    await tools.call("delete_model", model_id=world.model, confirm=True)
    assert user.asked == []
    assert (await tools.refused("delete_model", model_id=world.model, confirm=True)).startswith("[not-found]")
