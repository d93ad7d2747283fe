"""export_timeline, import_timeline, the timeline.otio resource and the prepare_for_edit prompt through a real MCP
client (memory:// with a 2026-era client, the embedded database with a 2025-era one)."""

from __future__ import annotations

import base64
import json
import re

import opentimelineio as otio
import pytest
from mcp.types import PromptReference, ResourceLink

from mcp_storyboard.server.prompts import load_prompts
from tests.media_samples import b64
from tests.seed import seed_project
from tests.services.export_world import build_world, main_timeline
from tests.tools.conftest import ToolClient

EDL = """TITLE: Cut

001  AX       V     C        00:00:00:00 00:00:02:00 00:00:00:00 00:00:02:00
* FROM CLIP NAME:  Wide
* LOC: 00:00:00:00 RED     OPENING
002  AX       V     C        00:00:00:00 00:00:01:00 00:00:03:00 00:00:04:00
* FROM CLIP NAME:  Close
"""


async def test_export_stores_the_file_and_import_gives_the_project_back(tools: ToolClient) -> None:
    world = await build_world(tools.services)
    exported = await tools.call("export_timeline", project_id=world.project_id, format="fcp_xml", frame_rate="25")
    assert exported == {
        "id": exported["id"], "uri": f"storyboard://media/{exported['id']}", "format": "fcp_xml", "frame_rate": "25",
        "clip_count": 5, "duration": 13.0, "loses": exported["loses"], "rounded": [], "rounded_count": 0,
    }  # fmt: skip
    assert "alternates" in exported["loses"]
    raw = await tools.client.call_tool("export_timeline", {"project_id": world.project_id, "format": "otio"})
    links = [block for block in raw.content if isinstance(block, ResourceLink)]
    assert [str(link.uri) for link in links] == [raw.structured_content["uri"]]  # type: ignore[index]
    read = await tools.client.read_resource(exported["uri"])
    assert read.contents[0].mime_type == "application/xml"
    assert base64.b64decode(read.contents[0].blob).startswith(b"<?xml")  # type: ignore[union-attr]

    imported = await tools.call("import_timeline", media_id=exported["id"], name="Night Drive (cut)")
    assert (imported["format"], imported["frame_rate"], imported["scene_count"], imported["clip_count"]) == (
        "fcp_xml", "25", 4, 5)
    tree = await tools.call("get_project_tree", project_id=imported["id"])
    assert tree["name"] == "Night Drive (cut)" and tree["total_duration"] == 13.0
    assert await main_timeline(tools.services, imported["id"]) == (
        ["Intro", "Act 1", "Act 1 / Chase", "Act 1 / Crash"],
        [("Intro", "Open", 0.0, 2.0), ("Intro", "Title", 3.0, 2.0), ("Act 1 / Chase", "Run", 6.0, 2.0),
         ("Act 1 / Chase", "Jump", 8.0, 1.0), ("Act 1 / Crash", "Boom", 9.0, 4.0)],
    )


async def test_a_small_edl_comes_back_as_text_and_an_uploaded_one_imports_at_its_rate(tools: ToolClient) -> None:
    world = await build_world(tools.services)
    edl = await tools.call("export_timeline", project_id=world.project_id, format="edl", frame_rate="24")
    assert edl["text"].startswith("TITLE: Night Drive") and "* LOC: 00:00:00:00 RED     INTRO" in edl["text"]
    cut = await tools.call("import_timeline", content_base64=b64(EDL.encode()), filename="cut.edl", frame_rate="25")
    assert (cut["scene_count"], cut["clip_count"], cut["frame_rate"]) == (1, 2, "25")
    assert (await main_timeline(tools.services, cut["id"]))[1] == [("OPENING", "Wide", 0.0, 2.0),
                                                                   ("OPENING", "Close", 3.0, 1.0)]


DISSOLVE = """TITLE: Dissolve

001  AAA      V     C        00:00:00:00 00:00:02:00 00:00:00:00 00:00:02:00
* FROM CLIP NAME:  One
002  AAA      V     C        00:00:02:00 00:00:02:00 00:00:02:00 00:00:02:00
002  BBB      V     D    012 00:00:00:00 00:00:02:00 00:00:02:00 00:00:04:00
* FROM CLIP NAME:  One
* TO CLIP NAME:  Two
"""


async def test_an_edl_with_a_dissolve_imports_its_clips_back_to_back(tools: ToolClient) -> None:
    cut = await tools.call("import_timeline", content_base64=b64(DISSOLVE.encode()), filename="d.edl")
    assert (await main_timeline(tools.services, cut["id"]))[1] == [("Dissolve", "One", 0.0, 2.0),
                                                                   ("Dissolve", "Two", 2.0, 2.0)]


async def test_the_timeline_resource_renders_the_project_now(tools: ToolClient) -> None:
    world = await build_world(tools.services)
    read = await tools.client.read_resource(f"storyboard://projects/{world.project_id}/timeline.otio")
    content = read.contents[0]
    assert content.mime_type == "application/json"
    timeline = otio.adapters.read_from_string(content.text, "otio_json")  # type: ignore[union-attr]
    assert [c.name for c in timeline.tracks[0].find_clips()] == ["Open", "Title", "Run", "Jump", "Boom"]
    empty = await seed_project(tools.services, "Empty")
    blank = await tools.client.read_resource(f"storyboard://projects/{empty}/timeline.otio")
    assert json.loads(blank.contents[0].text)["OTIO_SCHEMA"].startswith("Timeline")  # type: ignore[union-attr]
    before = await tools.snapshot()
    await tools.client.read_resource(f"storyboard://projects/{world.project_id}/timeline.otio")
    assert await tools.snapshot() == before, "a read writes nothing"


async def test_bad_input_is_refused_naming_the_field_and_writes_nothing(tools: ToolClient) -> None:
    world = await build_world(tools.services)
    other = await seed_project(tools.services, "Other")
    pid = world.project_id
    for arguments, fragment in [
        ({"project_id": pid, "format": "mov"}, "format"),
        ({"project_id": pid, "format": "otio", "frame_rate": "23.98"}, "frame_rate"),
        ({"project_id": pid, "format": "otio", "frame_rate": 24}, "frame_rate"),
        ({"project_id": pid, "format": "fcpx_xml", "frame_rate": "29.97"},
         "[invalid-argument] frame_rate: fcpx_xml cannot be written at 29.97"),
        ({"project_id": pid, "format": "otio", "include_alternates": "yes"}, "include_alternates"),
        ({"project_id": "ghost", "format": "otio"}, "[not-found] project 'ghost'"),
        ({"project_id": pid, "format": "otio", "scene_id": world.chase_id.replace("-", "")[:8] + "-nope"}, "scene"),
        ({"project_id": other, "format": "edl"}, "[invalid-state] there is nothing to export"),
    ]:
        text = await tools.refused("export_timeline", **arguments)
        assert fragment in text, f"{arguments}: {text}"
    otio_file = b64(b'{"OTIO_SCHEMA": "Timeline.1", "tracks": 3}')
    for arguments, fragment in [
        ({}, "[invalid-argument] media_id: give media_id or content_base64"),
        ({"media_id": world.image_id, "content_base64": otio_file, "filename": "a.otio"}, "media_id: give media_id"),
        ({"content_base64": otio_file}, "[invalid-argument] filename: is required"),
        ({"content_base64": otio_file, "filename": "cut.mov"}, "filename: 'cut.mov' is not a timeline file"),
        ({"content_base64": "%%%", "filename": "cut.otio"}, "content_base64: is not valid base64"),
        ({"content_base64": otio_file, "filename": "cut.otio"}, "[invalid-argument] file: could not be read as otio"),
        ({"content_base64": b64(b"TITLE: x\n"), "filename": "cut.edl"}, "file: holds no clip on a video track"),
        ({"media_id": world.image_id}, "media_id: 'open.png' is not a timeline file"),
        ({"media_id": "ghost"}, "[not-found] media 'ghost'"),
        ({"content_base64": b64(EDL.encode()), "filename": "cut.edl", "frame_rate": "12"}, "frame_rate"),
    ]:
        text = await tools.refused("import_timeline", **arguments)
        assert fragment in text, f"{arguments}: {text}"


async def test_an_import_that_fails_while_writing_leaves_no_project(tools: ToolClient, monkeypatch: pytest.MonkeyPatch) -> None:
    world = await build_world(tools.services)
    exported = await tools.call("export_timeline", project_id=world.project_id, format="otio")
    clips = tools.services.repositories.clips

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(clips, "insert_many", broken)
    before = await tools.snapshot()
    await tools.error("import_timeline", media_id=exported["id"])
    assert await tools.snapshot() == before, "the project and scenes written before the failure are gone"


async def test_prepare_for_edit_names_only_tools_that_exist(tools: ToolClient) -> None:
    names = {t.name for t in (await tools.client.list_tools()).tools}
    spec = next(p for p in load_prompts() if p.name == "prepare_for_edit")
    mentioned = set(re.findall(r"\b[a-z]+_[a-z_]+\b", spec.body)) - {"project_id", "frame_rate", "fcp_xml",
                                                                      "fcpx_xml", "final_cut"}
    assert "analyze_timeline" in mentioned and "export_timeline" in mentioned
    assert mentioned <= names, mentioned - names
    result = await tools.client.get_prompt("prepare_for_edit", {"project_id": "p1", "editor": "premiere"})
    assert "Editor: premiere. Frame rate: 24." in result.messages[0].content.text  # type: ignore[union-attr]
    for argument, value, expected in [("editor", "", ["resolve", "premiere", "final_cut", "avid", "otio"]),
                                      ("editor", "Pr", ["premiere"]), ("frame_rate", "2", ["23.976", "24", "25", "29.97"])]:
        completion = await tools.client.complete(PromptReference(name="prepare_for_edit"),
                                                 {"name": argument, "value": value})
        assert completion.completion.values == expected
