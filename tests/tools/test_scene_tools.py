"""Scene tools through a real MCP client: results, coded errors, and nothing written when a call fails."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.types import PromptReference, ResourceTemplateReference

from mcp_storyboard.models.clips import Clip
from tests.seed import seed_project
from tests.tools.conftest import ToolClient

INJECTION = {"$ne": None}


async def add_clip(tools: ToolClient, scene: dict[str, Any], order: int, position: float) -> Clip:
    project_id = (await tools.services.repositories.scenes.get(scene["id"])).project_id
    clip = Clip(scene_id=scene["id"], project_id=project_id, name=f"c{order}", order=order,
                timeline_position=position, duration=3.0, video_prompt="slow pan")
    return await tools.services.repositories.clips.insert(clip)


async def names_in_order(tools: ToolClient, project_id: str, **filters: Any) -> list[tuple[str, int]]:
    page = await tools.call("list_scenes", project_id=project_id, **filters)
    return [(s["name"], s["order"]) for s in page["items"]]


async def test_create_scene_appends_nests_and_inserts_at_a_position(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    intro = await tools.call("create_scene", project_id=pid, name="Intro", lyrics="la la")
    outro = await tools.call("create_scene", project_id=pid, name="Outro")
    middle = await tools.call("create_scene", project_id=pid, name="Middle", position=1)
    sub = await tools.call("create_scene", project_id=pid, name="Close-up", parent_scene_id=intro["id"])
    orders = [s["changed"]["order"] for s in (intro, outro, middle, sub)]
    assert orders == [0, 1, 1, 0]
    assert await names_in_order(tools, pid, top_level=True) == [("Intro", 0), ("Middle", 1), ("Outro", 2)]
    assert sub["changed"]["parent_scene_id"] == intro["id"]
    assert intro["changed"] == {"name": "Intro", "order": 0, "lyrics": "la la"}
    assert (await tools.call("get_scene", scene_id=intro["id"]))["lyrics"] == "la la"


async def test_get_scene_returns_its_clips_in_order_with_sub_scene_and_alternate_ids(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    scene = await tools.call("create_scene", project_id=pid, name="Verse")
    late, early = await add_clip(tools, scene, 1, 3.0), await add_clip(tools, scene, 0, 0.0)
    sub = await tools.call("create_scene", project_id=pid, name="Detail", parent_scene_id=scene["id"])
    alternate = await tools.call("create_alternate_scene", scene_id=scene["id"])
    read = await tools.call("get_scene", scene_id=scene["id"])
    assert [c["id"] for c in read["clips"]] == [early.id, late.id]
    assert (read["sub_scene_ids"], read["alternate_ids"]) == ([sub["id"]], [alternate["id"]])


async def test_list_scenes_pages_with_a_cursor_and_hides_alternates_unless_asked(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    first = await tools.call("create_scene", project_id=pid, name="S0")
    for i in range(1, 3):
        await tools.call("create_scene", project_id=pid, name=f"S{i}")
    alternate = await tools.call("create_alternate_scene", scene_id=first["id"])
    page = await tools.call("list_scenes", project_id=pid, limit=2)
    rest = await tools.call("list_scenes", project_id=pid, limit=2, cursor=page["next_cursor"])
    assert [s["name"] for s in page["items"] + rest["items"]] == ["S0", "S1", "S2"]
    everything = await tools.call("list_scenes", project_id=pid, include_alternates=True)
    assert alternate["id"] in [s["id"] for s in everything["items"]]


async def test_update_scene_changes_only_the_given_fields(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    scene = await tools.call("create_scene", project_id=pid, name="A", description="keep", lyrics="old")
    written = await tools.call("update_scene", scene_id=scene["id"], lyrics="")
    assert written["changed"] == {"lyrics": ""}
    updated = await tools.call("get_scene", scene_id=scene["id"])
    assert (updated["name"], updated["description"], updated["lyrics"]) == ("A", "keep", "")
    message = await tools.error("update_scene", scene_id=scene["id"])
    assert message.startswith("[invalid-argument]") and "nothing to change" in message


async def test_delete_scene_asks_for_confirmation_before_a_cascade_and_then_takes_everything(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    scene = await tools.call("create_scene", project_id=pid, name="A")
    await tools.call("create_scene", project_id=pid, name="B")
    await tools.call("create_scene", project_id=pid, name="Sub", parent_scene_id=scene["id"])
    await add_clip(tools, scene, 0, 0.0)
    message = await tools.refused("delete_scene", scene_id=scene["id"])
    assert message.startswith("[confirmation-required] delete_scene") and "confirm: true" in message
    deletion = await tools.call("delete_scene", scene_id=scene["id"], confirm=True)
    assert len(deletion["deleted_scene_ids"]) == 2 and deletion["deleted_clip_count"] == 1
    assert await names_in_order(tools, pid) == [("B", 0)]
    assert (await tools.snapshot())["clips"] == []


async def test_reorder_scenes_sets_dense_orders_and_refuses_a_foreign_id(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    a, b, c = [await tools.call("create_scene", project_id=pid, name=n) for n in "ABC"]
    result = await tools.call("reorder_scenes", project_id=pid, scene_ids=[c["id"], a["id"], b["id"]])
    assert [(s["name"], s["order"]) for s in result["scenes"]] == [("C", 0), ("A", 1), ("B", 2)]
    foreign = await tools.call("create_scene", project_id=await seed_project(tools.services, "Other"), name="F")
    message = await tools.refused("reorder_scenes", project_id=pid, scene_ids=[a["id"], b["id"], foreign["id"]])
    assert message.startswith("[invalid-argument] scene_ids:")
    assert f"missing: {c['id']}" in message and foreign["id"] in message


async def test_move_scene_re_parents_and_refuses_a_cycle_without_writing(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    a, b = [await tools.call("create_scene", project_id=pid, name=n) for n in "AB"]
    child = await tools.call("create_scene", project_id=pid, name="Child", parent_scene_id=a["id"])
    moved = await tools.call("move_scene", scene_id=b["id"], parent_scene_id=a["id"], position=0)
    assert moved["changed"] == {"parent_scene_id": a["id"], "order": 0}
    assert await names_in_order(tools, pid, parent_scene_id=a["id"]) == [("B", 0), ("Child", 1)]
    message = await tools.refused("move_scene", scene_id=a["id"], parent_scene_id=child["id"])
    assert message.startswith("[invalid-parent]") and "cycle" in message
    back = await tools.call("move_scene", scene_id=b["id"], top_level=True)
    assert back["changed"] == {"parent_scene_id": None, "order": 1}


async def test_create_scene_nests_five_levels_deep_and_refuses_a_sixth(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    parent = None
    for level in range(1, 6):
        parent = (await tools.call("create_scene", project_id=pid, name=f"L{level}", parent_scene_id=parent))["id"]
    message = await tools.refused("create_scene", project_id=pid, name="L6", parent_scene_id=parent)
    assert message.startswith("[invalid-parent]") and "over the limit of 5" in message


async def test_alternates_copy_clips_list_as_a_family_and_promote_back_and_forth(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    original = await tools.call("create_scene", project_id=pid, name="Chorus", description="rain")
    clip = await add_clip(tools, original, 0, 1.25)
    created = await tools.call("create_alternate_scene", scene_id=original["id"], copy_clips=True)
    alternate = await tools.call("get_scene", scene_id=created["id"])
    assert (alternate["name"], alternate["alternate_number"], alternate["is_alternate"]) == ("Chorus A1", 1, True)
    assert [c["id"] for c in alternate["clips"]] == created["clip_ids"]
    copies = [await tools.call("get_clip", clip_id=c) for c in created["clip_ids"]]
    assert [(c["timeline_position"], c["video_prompt"]) for c in copies] == [(1.25, "slow pan")]
    assert alternate["clips"][0]["id"] != clip.id
    again = await tools.call("create_alternate_scene", scene_id=alternate["id"])
    assert (again["changed"]["name"], again["changed"]["parent_scene_id"]) == ("Chorus A2", original["id"])
    family = await tools.call("list_alternates", scene_id=again["id"])
    assert family["original"]["id"] == original["id"]
    assert [a["name"] for a in family["alternates"]] == ["Chorus A1", "Chorus A2"]

    promoted = await tools.call("promote_alternate", scene_id=alternate["id"])
    assert (promoted["id"], promoted["changed"]) == (alternate["id"], {"parent_scene_id": None, "order": 0,
                                                                       "is_alternate": False})
    assert (await tools.call("get_scene", scene_id=promoted["id"]))["is_alternate"] is False
    assert set(promoted["alternate_ids"]) == {original["id"], again["id"]}
    assert await names_in_order(tools, pid) == [("Chorus A1", 0)]
    restored = await tools.call("promote_alternate", scene_id=original["id"])
    assert restored["id"] == original["id"]
    assert await names_in_order(tools, pid) == [("Chorus", 0)]
    message = await tools.error("promote_alternate", scene_id=original["id"])
    assert message.startswith("[alternate-not-found]")


async def test_concurrent_create_alternate_scene_calls_get_distinct_numbers(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    original = await tools.call("create_scene", project_id=pid, name="Bridge")
    names: list[str] = []

    async def make() -> None:
        names.append((await tools.call("create_alternate_scene", scene_id=original["id"]))["changed"]["name"])

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(make)
    assert sorted(names) == [f"Bridge A{n}" for n in range(1, 6)]


async def test_parallel_create_scene_calls_return_the_orders_that_are_stored(tools: ToolClient) -> None:
    # Regression: six parallel appends returned orders such as [0, 0, 2, 3, 3, 5] on the embedded backend.
    pid = await seed_project(tools.services)
    for round_no in range(5):
        returned: dict[str, int] = {}

        async def append(n: int, round_no: int = round_no) -> None:
            scene = await tools.call("create_scene", project_id=pid, name=f"R{round_no}-{n}")
            returned[scene["id"]] = scene["changed"]["order"]

        async with anyio.create_task_group() as tg:
            for n in range(6):
                tg.start_soon(append, n)
        stored = {s.id: s.order for s in await tools.services.repositories.scenes.siblings(pid, None)}
        assert returned == {sid: stored[sid] for sid in returned}
        assert sorted(stored.values()) == list(range(6 * (round_no + 1)))


async def test_delete_project_racing_creates_answers_every_call_without_an_internal_error(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    scene = await tools.call("create_scene", project_id=pid, name="Base")
    answers: list[str] = []

    async def call(tool: str, **arguments: Any) -> None:
        result = await tools.client.call_tool(tool, arguments)
        answers.append(str(result.content[0].text)[:14] if result.is_error else "ok")  # type: ignore[union-attr]

    async with anyio.create_task_group() as tg:
        for n in range(3):
            tg.start_soon(lambda n=n: call("create_scene", project_id=pid, name=f"S{n}"))
            tg.start_soon(lambda n=n: call("create_clip", scene_id=scene["id"], name=f"c{n}"))
        tg.start_soon(lambda: call("delete_project", project_id=pid, confirm=True))
    assert set(answers) <= {"ok", "[not-found] pr", "[not-found] sc"}, answers
    assert await tools.services.repositories.scenes.count({"project_id": pid}) == 0
    assert await tools.services.repositories.clips.count({"project_id": pid}) == 0


async def test_scene_ids_complete_within_the_chosen_project(tools: ToolClient) -> None:
    pid, other = await seed_project(tools.services), await seed_project(tools.services, "Other")
    mine = await tools.call("create_scene", project_id=pid, name="A")
    await tools.call("create_scene", project_id=other, name="B")
    result = await tools.client.complete(
        PromptReference(name="review_continuity"), {"name": "scene_id", "value": ""},
        context_arguments={"project_id": pid},
    )
    assert result.completion.values == [mine["id"]]
    typed = mine["id"][:6]
    for_template = await tools.client.complete(
        ResourceTemplateReference(uri="storyboard://scenes/{scene_id}"), {"name": "scene_id", "value": typed}
    )
    assert for_template.completion.values == [mine["id"]]


# -- bad inputs: every tool, a clear coded error naming the field, and nothing written ------------------------
BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("create_scene", {"project_id": "{pid}", "name": 42}, "name"),
    ("create_scene", {"project_id": "{pid}", "name": ""}, "name"),
    ("create_scene", {"project_id": "{pid}", "name": "x" * 201}, "name"),
    ("create_scene", {"project_id": INJECTION, "name": "A"}, "project_id"),
    ("create_scene", {"project_id": "{pid}", "name": "A", "position": -1}, "position"),
    ("create_scene", {"project_id": "{pid}", "name": "A", "position": 5}, "position"),
    ("create_scene", {"project_id": "{pid}", "name": "A", "parent_scene_id": INJECTION}, "parent_scene_id"),
    ("create_scene", {"project_id": "{pid}", "name": "A", "parent_scene_id": "ghost"}, "[invalid-parent]"),
    ("create_scene", {"project_id": "ghost", "name": "A"}, "[not-found] project 'ghost'"),
    ("create_scene", {"project_id": "{pid}", "name": "A", "lyrics": "x" * 5001}, "lyrics"),
    ("get_scene", {"scene_id": INJECTION}, "scene_id"),
    ("get_scene", {"scene_id": "ghost"}, "[not-found] scene 'ghost'"),
    ("get_scene", {"scene_id": "a$b"}, "scene_id"),
    ("list_scenes", {"project_id": "{pid}", "limit": 0}, "limit"),
    ("list_scenes", {"project_id": "{pid}", "limit": 101}, "limit"),
    ("list_scenes", {"project_id": "{pid}", "cursor": "garbage"}, "cursor"),
    ("list_scenes", {"project_id": "{pid}", "top_level": "maybe"}, "top_level"),
    ("list_scenes", {"project_id": INJECTION}, "project_id"),
    ("list_scenes", {"project_id": "ghost"}, "[not-found]"),
    ("update_scene", {"scene_id": "{sid}", "name": ["A"]}, "name"),
    ("update_scene", {"scene_id": "{sid}", "description": "x" * 2001}, "description"),
    ("update_scene", {"scene_id": INJECTION, "name": "B"}, "scene_id"),
    ("update_scene", {"scene_id": "ghost", "name": "B"}, "[not-found]"),
    ("delete_scene", {"scene_id": INJECTION}, "scene_id"),
    ("delete_scene", {"scene_id": "ghost", "confirm": True}, "[not-found]"),
    ("delete_scene", {"scene_id": "{sid}", "confirm": "yes please"}, "confirm"),
    ("reorder_scenes", {"project_id": "{pid}", "scene_ids": []}, "scene_ids"),
    ("reorder_scenes", {"project_id": "{pid}", "scene_ids": "{sid}"}, "scene_ids"),
    ("reorder_scenes", {"project_id": "{pid}", "scene_ids": [INJECTION]}, "scene_ids"),
    ("reorder_scenes", {"project_id": "{pid}", "scene_ids": ["ghost"]}, "scene_ids"),
    ("reorder_scenes", {"project_id": "{pid}", "scene_ids": ["{sid}"], "parent_scene_id": "ghost"}, "[invalid-parent]"),
    ("move_scene", {"scene_id": "{sid}"}, "nothing to move"),
    ("move_scene", {"scene_id": "{sid}", "position": 3}, "position"),
    ("move_scene", {"scene_id": "{sid}", "position": 1.5}, "position"),
    ("move_scene", {"scene_id": "{sid}", "parent_scene_id": "{sid}"}, "[invalid-parent]"),
    ("move_scene", {"scene_id": "{sid}", "parent_scene_id": INJECTION}, "parent_scene_id"),
    ("move_scene", {"scene_id": "{sid}", "parent_scene_id": "{alt}"}, "[invalid-parent]"),
    ("move_scene", {"scene_id": "{alt}", "position": 0}, "[invalid-parent]"),
    ("create_alternate_scene", {"scene_id": INJECTION}, "scene_id"),
    ("create_alternate_scene", {"scene_id": "ghost"}, "[not-found]"),
    ("create_alternate_scene", {"scene_id": "{sid}", "copy_clips": 7}, "copy_clips"),
    ("list_alternates", {"scene_id": INJECTION}, "scene_id"),
    ("list_alternates", {"scene_id": "ghost"}, "[not-found]"),
    ("promote_alternate", {"scene_id": INJECTION}, "scene_id"),
    ("promote_alternate", {"scene_id": "ghost"}, "[not-found]"),
    ("promote_alternate", {"scene_id": "{sid}"}, "[alternate-not-found]"),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


@pytest.mark.parametrize(("name", "arguments", "expected"), BAD_INPUTS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(BAD_INPUTS)])
async def test_bad_input_gives_a_coded_error_naming_the_field_and_writes_nothing(
    tools: ToolClient, name: str, arguments: dict[str, Any], expected: str
) -> None:
    pid = await seed_project(tools.services)
    scene = await tools.call("create_scene", project_id=pid, name="Only")
    alternate = await tools.call("create_alternate_scene", scene_id=scene["id"])
    ids = {"pid": pid, "sid": scene["id"], "alt": alternate["id"]}
    message = await tools.refused(name, **{k: _fill(v, ids) for k, v in arguments.items()})
    assert message.startswith("[")
    assert expected in message
    assert "Traceback" not in message and "$ne" not in message


async def test_annotations_follow_the_operation_kinds(tools: ToolClient) -> None:
    hints = {t.name: t.annotations for t in (await tools.client.list_tools()).tools}
    assert hints["list_scenes"] is not None and hints["list_scenes"].read_only_hint is True
    assert hints["delete_scene"] is not None and hints["delete_scene"].destructive_hint is True
    assert hints["reorder_scenes"] is not None and hints["reorder_scenes"].idempotent_hint is True
    assert hints["create_alternate_scene"] is not None and hints["create_alternate_scene"].idempotent_hint is False
