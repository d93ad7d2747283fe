"""The clip tools through a real MCP client: results, [codes] in errors, and nothing written on a refusal."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.types import PromptReference

from mcp_storyboard.models.scenes import Scene
from tests.seed import seed_project, seed_scene
from tests.tools.conftest import ToolClient, _text

INJECTION = {"$ne": None}


async def scene(tools: ToolClient, name: str = "Verse", project_id: str | None = None, **fields: Any) -> Scene:
    if project_id is None:
        project_id = await seed_project(tools.services)
    return await seed_scene(tools.services, project_id, name, **fields)


async def clip(
    tools: ToolClient, sc: Scene, name: str, position: float | None = None, duration: float = 5.0, **fields: Any
) -> dict[str, Any]:
    args: dict[str, Any] = {"scene_id": sc.id, "name": name, "duration": duration, **fields}
    if position is not None:
        args["timeline_position"] = position
    return await tools.call("create_clip", **args)


async def refused_cases(tools: ToolClient, tool: str, cases: list[tuple[dict[str, Any], str]]) -> None:
    """Every case fails with a message containing its fragment, and nothing is written."""
    before = await tools.snapshot()
    for arguments, fragment in cases:
        text = await tools.error(tool, **arguments)
        assert fragment in text, f"{tool}({arguments}) answered {text!r}"
    assert await tools.snapshot() == before


# -- create / get / list ------------------------------------------------------------------------------------------
async def test_create_clip_places_clips_back_to_back_in_the_scenes_project(tools: ToolClient) -> None:
    sc = await scene(tools)
    first = await clip(tools, sc, "Intro", image_prompt="dawn over the city")
    second = await clip(tools, sc, "Title", type="text", content="NIGHT DRIVE", duration=2.5)
    assert (first["changed"]["timeline_position"], first["changed"]["order"]) == (0.0, 0)
    assert (second["changed"]["timeline_position"], second["changed"]["order"]) == (5.0, 1)
    got = await tools.call("get_clip", clip_id=first["id"])
    assert (got["project_id"], got["timeline_position"], got["order"]) == (sc.project_id, 0.0, 0)
    assert (got["name"], got["image_prompt"], got["duration"]) == ("Intro", "dawn over the city", 5.0)
    got_second = await tools.call("get_clip", clip_id=second["id"])
    assert (got_second["timeline_position"], got_second["order"], got_second["type"]) == (5.0, 1, "text")


async def test_create_clip_refuses_an_overlap_naming_the_clip_and_a_free_position(tools: ToolClient) -> None:
    sc = await scene(tools)
    intro = await clip(tools, sc, "Intro", 0.0, 5.0)
    await clip(tools, sc, "Verse", 5.0, 3.0)
    text = await tools.refused("create_clip", scene_id=sc.id, name="Bridge", timeline_position=2.0, duration=2.0)
    assert text.startswith("[clip-overlap] timeline_position:")
    assert f"'Intro' ({intro['id']})" in text and "timeline_position 8" in text
    forced = await tools.call("create_clip", scene_id=sc.id, timeline_position=2.0, allow_overlap=True)
    assert forced["changed"]["timeline_position"] == 2.0


async def test_create_clip_refuses_bad_input_naming_the_field(tools: ToolClient) -> None:
    sc = await scene(tools)
    await refused_cases(
        tools,
        "create_clip",
        [
            ({"scene_id": INJECTION}, "[invalid-argument] scene_id"),
            ({"scene_id": "a$b"}, "[invalid-argument] scene_id"),
            ({"scene_id": "nope"}, "[not-found] scene 'nope'"),
            ({"scene_id": sc.id, "timeline_position": -1}, "[invalid-argument] timeline_position"),
            ({"scene_id": sc.id, "timeline_position": 10000.01}, "[invalid-argument] timeline_position"),
            ({"scene_id": sc.id, "timeline_position": "soon"}, "[invalid-argument] timeline_position"),
            ({"scene_id": sc.id, "timeline_position": 9999, "duration": 5}, "[invalid-argument] duration"),
            ({"scene_id": sc.id, "duration": 0}, "[invalid-argument] duration"),
            ({"scene_id": sc.id, "type": "gif"}, "[invalid-argument] type"),
            ({"scene_id": sc.id, "type": "text"}, "[invalid-argument] content"),
            ({"scene_id": sc.id, "name": "x" * 201}, "[invalid-argument] name"),
            ({"scene_id": sc.id, "name": INJECTION}, "[invalid-argument] name"),
            ({"scene_id": sc.id, "media_url": "file:///etc/passwd"}, "[invalid-argument] media_url"),
            ({"scene_id": sc.id, "order": -1}, "[invalid-argument] order"),
            ({"scene_id": sc.id, "order": 3}, "[invalid-argument] order: 3 is outside 0..0"),
            ({"scene_id": sc.id, "allow_overlap": "maybe"}, "[invalid-argument] allow_overlap"),
        ],
    )


async def test_get_clip_refuses_bad_ids(tools: ToolClient) -> None:
    await refused_cases(
        tools,
        "get_clip",
        [
            ({"clip_id": INJECTION}, "[invalid-argument] clip_id"),
            ({"clip_id": 42}, "[invalid-argument] clip_id"),
            ({"clip_id": ""}, "[invalid-argument] clip_id"),
            ({"clip_id": "nope"}, "[not-found] clip 'nope' does not exist"),
            ({}, "[invalid-argument] clip_id"),
        ],
    )


async def test_list_clips_pages_in_order_and_filters_alternates(tools: ToolClient) -> None:
    sc = await scene(tools)
    a = await clip(tools, sc, "a")
    await tools.call("create_alternate_clip", clip_id=a["id"])
    await clip(tools, sc, "b")
    first = await tools.call("list_clips", scene_id=sc.id, limit=2)
    rest = await tools.call("list_clips", scene_id=sc.id, limit=2, cursor=first["next_cursor"])
    assert [c["name"] for c in first["items"] + rest["items"]] == ["a", "a A1", "b"]
    main = await tools.call("list_clips", scene_id=sc.id, include_alternates=False)
    assert [c["name"] for c in main["items"]] == ["a", "b"] and main["next_cursor"] is None
    await refused_cases(
        tools,
        "list_clips",
        [
            ({"scene_id": INJECTION}, "[invalid-argument] scene_id"),
            ({"scene_id": "nope"}, "[not-found] scene 'nope'"),
            ({"scene_id": sc.id, "limit": 0}, "[invalid-argument] limit"),
            ({"scene_id": sc.id, "limit": 101}, "[invalid-argument] limit"),
            ({"scene_id": sc.id, "cursor": "garbage"}, "[invalid-argument] cursor"),
            ({"scene_id": sc.id, "include_alternates": INJECTION}, "[invalid-argument] include_alternates"),
        ],
    )


# -- update / delete -----------------------------------------------------------------------------------------------
async def test_update_clip_changes_only_the_given_fields_and_null_clears(tools: ToolClient) -> None:
    sc = await scene(tools)
    a = await clip(tools, sc, "a", image_prompt="dawn", video_prompt="pan")
    written = await tools.call("update_clip", clip_id=a["id"], changes={"image_prompt": None, "lyrics": "la la"})
    assert (written["id"], written["uri"], written["changed"]) == (a["id"], f"storyboard://clips/{a['id']}",
                                                                   {"lyrics": "la la", "image_prompt": None})
    updated = await tools.call("get_clip", clip_id=a["id"])
    assert (updated["image_prompt"], updated["video_prompt"], updated["lyrics"]) == (None, "pan", "la la")
    await refused_cases(
        tools,
        "update_clip",
        [
            ({"clip_id": a["id"], "changes": {}}, "[invalid-argument] changes: has no field to change"),
            ({"clip_id": a["id"], "changes": {"timeline_position": 3}}, "set_clip_timing"),
            ({"clip_id": a["id"], "changes": {"character_id": "c1"}}, "assign_character"),
            ({"clip_id": a["id"], "changes": {"name": None}}, "[invalid-argument] changes.name"),
            ({"clip_id": a["id"], "changes": {"image_prompt": INJECTION}}, "[invalid-argument] changes.image_prompt"),
            ({"clip_id": a["id"], "changes": {"type": "text"}}, "[invalid-argument] content"),
            ({"clip_id": a["id"], "changes": "name=x"}, "[invalid-argument] changes"),
            ({"clip_id": INJECTION, "changes": {"name": "x"}}, "[invalid-argument] clip_id"),
            ({"clip_id": "nope", "changes": {"name": "x"}}, "[not-found] clip 'nope'"),
        ],
    )


async def test_delete_clip_with_alternates_needs_confirm_then_takes_them_along(tools: ToolClient) -> None:
    sc = await scene(tools)
    a = await clip(tools, sc, "a")
    alt = await tools.call("create_alternate_clip", clip_id=a["id"])
    b = await clip(tools, sc, "b")
    await refused_cases(
        tools,
        "delete_clip",
        [
            ({"clip_id": a["id"]}, "[confirmation-required]"),
            ({"clip_id": a["id"], "confirm": "please"}, "[invalid-argument] confirm"),
            ({"clip_id": INJECTION}, "[invalid-argument] clip_id"),
            ({"clip_id": "nope", "confirm": True}, "[not-found] clip 'nope'"),
        ],
    )
    deleted = await tools.call("delete_clip", clip_id=a["id"], confirm=True)
    assert deleted["deleted_alternate_ids"] == [alt["id"]]
    remaining = await tools.call("list_clips", scene_id=sc.id)
    assert [(c["id"], c["order"]) for c in remaining["items"]] == [(b["id"], 0)]


# -- alternates ----------------------------------------------------------------------------------------------------
async def test_create_alternate_clip_numbers_and_lists_the_family(tools: ToolClient) -> None:
    sc = await scene(tools)
    a = await clip(tools, sc, "Intro", 0.0, 4.0, image_prompt="dawn")
    alt1 = await tools.call("create_alternate_clip", clip_id=a["id"])
    alt2 = await tools.call("create_alternate_clip", clip_id=alt1["id"])
    assert (alt1["changed"]["name"], alt2["changed"]["name"], alt1["changed"]["timeline_position"]) == (
        "Intro A1", "Intro A2", 0.0)
    alt1, alt2 = [await tools.call("get_clip", clip_id=c["id"]) for c in (alt1, alt2)]
    assert (alt1["name"], alt2["name"], alt2["alternate_of"]) == ("Intro A1", "Intro A2", a["id"])
    assert (alt1["timeline_position"], alt1["image_prompt"], alt1["generated_images"]) == (0.0, "dawn", [])
    family = await tools.call("list_clip_alternates", clip_id=alt2["id"])
    assert family["original"]["id"] == a["id"] and [c["name"] for c in family["alternates"]] == ["Intro A1", "Intro A2"]
    await refused_cases(
        tools,
        "create_alternate_clip",
        [
            ({"clip_id": INJECTION}, "[invalid-argument] clip_id"),
            ({"clip_id": 42}, "[invalid-argument] clip_id"),
            ({"clip_id": "nope"}, "[not-found] clip 'nope'"),
        ],
    )
    await refused_cases(
        tools,
        "list_clip_alternates",
        [
            ({"clip_id": INJECTION}, "[invalid-argument] clip_id"),
            ({"clip_id": [a["id"]]}, "[invalid-argument] clip_id"),
            ({"clip_id": "nope"}, "[not-found] clip 'nope'"),
        ],
    )


# -- timing --------------------------------------------------------------------------------------------------------
async def test_set_clip_timing_refuses_an_overlap_with_the_suggested_position(tools: ToolClient) -> None:
    sc = await scene(tools)
    a = await clip(tools, sc, "a", 0.0, 5.0)
    b = await clip(tools, sc, "b", 5.0, 5.0)
    alt = await tools.call("create_alternate_clip", clip_id=a["id"])
    before = await tools.snapshot()
    text = await tools.error("set_clip_timing", clip_id=a["id"], timeline_position=7.0)
    assert text.startswith("[clip-overlap]") and b["id"] in text and "timeline_position 10" in text
    assert await tools.snapshot() == before
    moved = await tools.call("set_clip_timing", clip_id=a["id"], timeline_position=10.0, duration=2.5)
    assert moved["changed"] == {"timeline_position": 10.0, "duration": 2.5}
    over_b = await tools.call("set_clip_timing", clip_id=alt["id"], timeline_position=6.0)  # alternates never collide
    assert over_b["changed"] == {"timeline_position": 6.0}
    touching = await tools.call("set_clip_timing", clip_id=a["id"], timeline_position=0.0, duration=5.0)
    assert touching["changed"]["timeline_position"] == 0.0
    rounded = await tools.call("set_clip_timing", clip_id=b["id"], timeline_position=5.004)
    assert rounded["changed"]["timeline_position"] == 5.0  # the stored value


async def test_concurrent_set_clip_timing_calls_into_one_free_slot_let_at_most_one_win(tools: ToolClient) -> None:
    if not tools.services.database.capabilities.transactions:
        pytest.skip("memory:// (mongomock) has no transactions")
    sc = await scene(tools)
    movers = [await clip(tools, sc, f"m{i}", i * 10.0, 5.0) for i in range(5)]
    answers: list[str] = []

    async def move(clip_id: str) -> None:
        result = await tools.client.call_tool("set_clip_timing", {"clip_id": clip_id, "timeline_position": 100.0})
        answers.append(_text(result).split("]")[0] + "]" if result.is_error else "won")

    async with anyio.create_task_group() as tg:
        for m in movers:
            tg.start_soon(move, m["id"])
    assert sorted(answers) == ["[clip-overlap]"] * 4 + ["won"]
    report = await tools.call("analyze_timeline", scene_id=sc.id)
    assert report["overlap_count"] == 0


async def test_set_clip_timing_refuses_bad_input(tools: ToolClient) -> None:
    sc = await scene(tools)
    a = await clip(tools, sc, "a")
    await refused_cases(
        tools,
        "set_clip_timing",
        [
            ({"clip_id": a["id"]}, "[invalid-argument] timeline_position: give timeline_position, duration or both"),
            ({"clip_id": a["id"], "timeline_position": -1}, "[invalid-argument] timeline_position"),
            ({"clip_id": a["id"], "timeline_position": 10000.01}, "[invalid-argument] timeline_position"),
            ({"clip_id": a["id"], "timeline_position": 9998}, "[invalid-argument] duration"),
            ({"clip_id": a["id"], "duration": 0}, "[invalid-argument] duration"),
            ({"clip_id": a["id"], "duration": -5}, "[invalid-argument] duration"),
            ({"clip_id": a["id"], "duration": "long"}, "[invalid-argument] duration"),
            ({"clip_id": INJECTION, "duration": 1}, "[invalid-argument] clip_id"),
            ({"clip_id": "nope", "duration": 1}, "[not-found] clip 'nope'"),
        ],
    )


# -- move / reorder ------------------------------------------------------------------------------------------------
async def test_move_clip_between_scenes_of_one_project_only(tools: ToolClient) -> None:
    s1 = await scene(tools, "S1")
    s2 = await scene(tools, "S2", project_id=s1.project_id, order=1)
    foreign = await scene(tools, "Elsewhere")
    a = await clip(tools, s1, "a", 0.0, 5.0)
    alt = await tools.call("create_alternate_clip", clip_id=a["id"])
    x = await clip(tools, s2, "x", 0.0, 5.0)
    await refused_cases(
        tools,
        "move_clip",
        [
            ({"clip_id": a["id"], "scene_id": foreign.id}, "[invalid-parent]"),
            ({"clip_id": a["id"], "scene_id": s2.id}, "[clip-overlap]"),
            ({"clip_id": alt["id"], "scene_id": s2.id}, "[invalid-parent]"),
            ({"clip_id": a["id"]}, "[invalid-argument] scene_id: give scene_id, order or timeline_position"),
            ({"clip_id": a["id"], "order": -1}, "[invalid-argument] order"),
            ({"clip_id": a["id"], "order": "first"}, "[invalid-argument] order"),
            ({"clip_id": a["id"], "order": 5}, "[invalid-argument] order"),
            ({"clip_id": a["id"], "scene_id": s2.id, "allow_overlap": INJECTION}, "[invalid-argument] allow_overlap"),
            ({"clip_id": a["id"], "scene_id": INJECTION}, "[invalid-argument] scene_id"),
            ({"clip_id": a["id"], "scene_id": "nope"}, "[not-found] scene 'nope'"),
            ({"clip_id": a["id"], "scene_id": s2.id, "timeline_position": -1}, "[invalid-argument] timeline_position"),
            ({"clip_id": "nope", "order": 0}, "[not-found] clip 'nope'"),
        ],
    )
    text = await tools.error("move_clip", clip_id=a["id"], scene_id=s2.id)
    assert x["id"] in text and "timeline_position 5" in text
    moved = await tools.call("move_clip", clip_id=a["id"], scene_id=s2.id, timeline_position=5.0, order=0)
    assert moved["changed"] == {"scene_id": s2.id, "order": 0, "timeline_position": 5.0}
    listed = await tools.call("list_clips", scene_id=s2.id)
    assert [(c["id"], c["order"]) for c in listed["items"]] == [(a["id"], 0), (alt["id"], 1), (x["id"], 2)]
    assert (await tools.call("list_clips", scene_id=s1.id))["items"] == []


async def test_reorder_clips_takes_exactly_the_scenes_clips(tools: ToolClient) -> None:
    sc = await scene(tools)
    other = await scene(tools, "Other", project_id=sc.project_id, order=1)
    a, b, c = [await clip(tools, sc, n) for n in ("a", "b", "c")]
    z = await clip(tools, other, "z")
    await refused_cases(
        tools,
        "reorder_clips",
        [
            ({"scene_id": sc.id, "clip_ids": [a["id"], b["id"]]}, f"missing: {c['id']}"),
            ({"scene_id": sc.id, "clip_ids": [a["id"], b["id"], c["id"], a["id"]]}, f"listed twice: {a['id']}"),
            (
                {"scene_id": sc.id, "clip_ids": [a["id"], b["id"], c["id"], z["id"]]},
                f"not clips of scene {sc.id}: {z['id']}",
            ),
            ({"scene_id": sc.id, "clip_ids": []}, "[invalid-argument] clip_ids"),
            ({"scene_id": sc.id, "clip_ids": a["id"]}, "[invalid-argument] clip_ids"),
            ({"scene_id": sc.id, "clip_ids": [INJECTION]}, "[invalid-argument] clip_ids.0"),
            ({"scene_id": "nope", "clip_ids": [a["id"]]}, "[not-found] scene 'nope'"),
        ],
    )
    result = await tools.call("reorder_clips", scene_id=sc.id, clip_ids=[c["id"], a["id"], b["id"]])
    assert result["clip_ids"] == [c["id"], a["id"], b["id"]]
    listed = await tools.call("list_clips", scene_id=sc.id)
    assert [(x["name"], x["order"]) for x in listed["items"]] == [("c", 0), ("a", 1), ("b", 2)]


# -- analysis ------------------------------------------------------------------------------------------------------
async def test_analyze_timeline_reports_exact_figures(tools: ToolClient) -> None:
    sc = await scene(tools, "Chorus")
    second = await scene(tools, "Outro", project_id=sc.project_id, order=1)
    c1 = await clip(tools, sc, "c1", 1.0, 4.0, image_prompt="sky")
    c2 = await clip(tools, sc, "c2", 4.0, 2.0, type="video", allow_overlap=True)
    await tools.call("create_alternate_clip", clip_id=c1["id"])
    await clip(tools, second, "end", 0.0, 3.0, type="text", content="FIN")
    report = await tools.call("analyze_timeline", project_id=sc.project_id, gap_threshold=0.5)
    chorus, outro = report["scenes"]
    assert chorus["overlaps"] == [
        {
            "first_id": c1["id"],
            "first_name": "c1",
            "second_id": c2["id"],
            "second_name": "c2",
            "start": 4.0,
            "end": 5.0,
            "seconds": 1.0,
            "suggested_position": 5.0,
        }
    ]
    assert chorus["gaps"] == [{"after_id": None, "before_id": c1["id"], "start": 0.0, "end": 1.0, "seconds": 1.0}]
    assert [(m["clip_id"], m["missing"]) for m in chorus["missing_prompts"]] == [(c2["id"], "video_prompt")]
    assert (chorus["length"], chorus["clip_length_total"], chorus["clip_count"], chorus["alternate_clip_count"]) == (
        6.0,
        6.0,
        2,
        1,
    )
    assert (outro["offset"], outro["length"], outro["has_issues"]) == (6.0, 3.0, False)
    assert (report["total_duration"], report["clip_count"], report["has_issues"]) == (9.0, 3, True)
    only = await tools.call("analyze_timeline", scene_id=second.id)
    assert (only["total_duration"], only["has_issues"], len(only["scenes"])) == (3.0, False, 1)
    await refused_cases(
        tools,
        "analyze_timeline",
        [
            ({}, "[invalid-argument] project_id"),
            ({"project_id": INJECTION}, "[invalid-argument] project_id"),
            ({"project_id": "nope"}, "[not-found] project 'nope'"),
            ({"scene_id": "nope"}, "[not-found] scene 'nope'"),
            ({"scene_id": sc.id, "project_id": "other"}, "[invalid-parent]"),
            ({"project_id": sc.project_id, "gap_threshold": -1}, "[invalid-argument] gap_threshold"),
            ({"project_id": sc.project_id, "gap_threshold": "big"}, "[invalid-argument] gap_threshold"),
        ],
    )


# -- gallery -------------------------------------------------------------------------------------------------------
async def test_clip_media_first_is_selected_unknown_ids_are_refused_and_removal_reselects(tools: ToolClient) -> None:
    sc = await scene(tools)
    a = await clip(tools, sc, "a")
    first = await tools.call(
        "add_clip_media",
        clip_id=a["id"],
        kind="image",
        url="https://x.test/1.png",
        prompt="dawn",
        params={"seed": 7, "sampler": "euler"},
        model="sdxl.safetensors",
    )
    one = first["media_entry_id"]
    second = await tools.call("add_clip_media", clip_id=a["id"], kind="image", url="https://x.test/2.png")
    two = second["media_entry_id"]
    assert first["changed"] == {"selected_image_id": one, "selected_video_id": None}
    assert second["changed"] == {"selected_image_id": one, "selected_video_id": None}
    assert (first["id"], first["uri"]) == (a["id"], f"storyboard://clips/{a['id']}")
    gallery = (await tools.call("get_clip", clip_id=a["id"]))["generated_images"]
    assert [m["id"] for m in gallery] == [one, two]
    assert gallery[0]["params"] == {"seed": 7, "sampler": "euler"}
    await refused_cases(
        tools,
        "select_clip_media",
        [
            ({"clip_id": a["id"], "kind": "image", "media_entry_id": "unknown"}, "[not-found] gallery image 'unknown'"),
            ({"clip_id": a["id"], "kind": "video", "media_entry_id": one}, "[not-found] gallery video"),
            ({"clip_id": a["id"], "kind": "audio", "media_entry_id": one}, "[invalid-argument] kind"),
            ({"clip_id": a["id"], "kind": "image", "media_entry_id": INJECTION}, "[invalid-argument] media_entry_id"),
            ({"clip_id": "nope", "kind": "image", "media_entry_id": one}, "[not-found] clip 'nope'"),
        ],
    )
    selected = await tools.call("select_clip_media", clip_id=a["id"], kind="image", media_entry_id=two)
    assert selected["changed"]["selected_image_id"] == two
    after = await tools.call("remove_clip_media", clip_id=a["id"], kind="image", media_entry_id=two, confirm=True)
    images = (await tools.call("get_clip", clip_id=a["id"]))["generated_images"]
    assert (after["changed"]["selected_image_id"], [m["id"] for m in images]) == (one, [one])
    await refused_cases(
        tools,
        "remove_clip_media",
        [
            ({"clip_id": a["id"], "kind": "image", "media_entry_id": two, "confirm": True}, "[not-found] gallery image"),
            ({"clip_id": INJECTION, "kind": "image", "media_entry_id": one}, "[invalid-argument] clip_id"),
            ({"clip_id": a["id"], "kind": 5, "media_entry_id": one}, "[invalid-argument] kind"),
            ({"clip_id": a["id"], "kind": "image", "media_entry_id": "nope", "confirm": True},
             "[not-found] gallery image 'nope'"),
        ],
    )
    await refused_cases(
        tools,
        "add_clip_media",
        [
            ({"clip_id": a["id"], "kind": "image"}, "[invalid-argument] url: give exactly one of url and media_id"),
            ({"clip_id": a["id"], "kind": "image", "media_id": "nope"}, "[not-found] media 'nope'"),
            ({"clip_id": a["id"], "kind": "image", "media_id": INJECTION}, "[invalid-argument] media_id"),
            (
                {"clip_id": a["id"], "kind": "image", "url": "https://x.test/a.png", "server_id": INJECTION},
                "[invalid-argument] server_id",
            ),
            ({"clip_id": a["id"], "kind": "image", "url": "javascript:alert(1)"}, "[invalid-argument] url"),
            (
                {"clip_id": a["id"], "kind": "image", "url": "https://x.test/a.png", "params": {"nested": {"a": 1}}},
                "[invalid-argument] params",
            ),
            ({"clip_id": a["id"], "kind": "gif", "url": "https://x.test/a.png"}, "[invalid-argument] kind"),
            ({"clip_id": INJECTION, "kind": "image", "url": "https://x.test/a.png"}, "[invalid-argument] clip_id"),
            ({"clip_id": "nope", "kind": "image", "url": "https://x.test/a.png"}, "[not-found] clip 'nope'"),
        ],
    )


async def test_clip_media_from_the_media_store_is_stored_as_a_storyboard_url(tools: ToolClient) -> None:
    sc = await scene(tools)
    a = await clip(tools, sc, "a", type="video")
    stored = await tools.services.database.media.put(b"\x00\x00", content_type="video/mp4", project_id=sc.project_id)
    added = await tools.call("add_clip_media", clip_id=a["id"], kind="video", media_id=stored.id)
    gallery = await tools.call("get_clip", clip_id=a["id"])
    entry = gallery["generated_videos"][0]
    assert (entry["url"], entry["media_id"], gallery["selected_video_id"], added["media_entry_id"]) == (
        f"storyboard://media/{stored.id}",
        stored.id,
        entry["id"],
        entry["id"],
    )


# -- completion ----------------------------------------------------------------------------------------------------
async def test_clip_id_completion_offers_the_clips_of_the_resolved_scene(tools: ToolClient) -> None:
    sc = await scene(tools)
    other = await scene(tools, "Other", project_id=sc.project_id)
    sunrise = await clip(tools, sc, "Sunrise")
    await clip(tools, other, "Sunset")
    ref = PromptReference(name="write_clip_prompts")
    result = await tools.client.complete(ref, {"name": "clip_id", "value": "sun"}, {"scene_id": sc.id})
    assert result.completion.values == [sunrise["id"]]
    by_prefix = await tools.client.complete(ref, {"name": "clip_id", "value": sunrise["id"][:6]})
    assert sunrise["id"] in by_prefix.completion.values


@pytest.mark.parametrize("tool", ["create_clip", "set_clip_timing", "move_clip", "analyze_timeline", "add_clip_media"])
async def test_clip_tools_are_in_the_storyboard_toolset_with_output_schemas(tools: ToolClient, tool: str) -> None:
    listed = {t.name: t for t in (await tools.client.list_tools()).tools}
    assert listed[tool].output_schema is not None and listed[tool].title
