"""One small storyboard built end to end through the MCP client, the way an assistant would: a project, nested
scenes, an alternate, clips with a timing conflict, a character, a style template, composed prompts, the tree
and the Markdown shot list."""

from __future__ import annotations

from tests.tools.conftest import ToolClient


async def test_an_assistant_builds_a_music_video_storyboard_end_to_end(tools: ToolClient) -> None:
    project = await tools.call("create_project", name="Neon Rain", description="Synthwave music video", music_duration=30.0)
    pid = project["id"]

    intro = await tools.call("create_scene", project_id=pid, name="Intro", lyrics="(instrumental)")
    chorus = await tools.call("create_scene", project_id=pid, name="Chorus")
    close_ups = await tools.call("create_scene", project_id=pid, name="Close-ups", parent_scene_id=chorus["id"])
    assert (intro["changed"]["order"], chorus["changed"]["order"], close_ups["changed"]["order"]) == (0, 1, 0)

    ava = await tools.call("create_character", project_id=pid, name="Ava", description="a woman in a red coat",
                           trigger_words="ava_v2", lora="ava_lora:0.8")
    noir = await tools.call("create_style_template", project_id=pid, name="Neon noir", prompt_additions="neon, rain, film grain",
                            negative_prompt="blurry, lowres", style_strength=0.7)

    await tools.call("create_clip", scene_id=intro["id"], name="Street", image_prompt="a wet street at night",
                              timeline_position=0, duration=4)
    # The next clip asks for a slot that overlaps the first: refused with the clip in the way and a free position.
    conflict = await tools.error("create_clip", scene_id=intro["id"], name="Ava walks", image_prompt="Ava walks",
                                 timeline_position=2, duration=3)
    assert conflict.startswith("[clip-overlap]") and "Street" in conflict and "4" in conflict
    walk = await tools.call("create_clip", scene_id=intro["id"], name="Ava walks", image_prompt="Ava walks toward camera",
                            timeline_position=4, duration=3)
    await tools.call("create_clip", scene_id=chorus["id"], name="Title", type="text", content="NEON RAIN", duration=2)
    await tools.call("create_clip", scene_id=close_ups["id"], name="Eyes", type="video", duration=2.5)

    assert (await tools.call("assign_character", clip_id=walk["id"], character_id=ava["id"]))["character_id"] == ava["id"]
    applied = await tools.call("apply_style_template", clip_id=walk["id"], template_id=noir["id"])
    assert applied["use_count"] == 1

    composed = await tools.call("compose_clip_prompt", clip_id=walk["id"])
    positive = composed["image"]["positive"]
    assert positive.startswith("ava_v2 Ava, a woman in a red coat.")
    assert "Ava walks toward camera" in positive and "(neon, rain, film grain:0.7)" in positive
    assert "<lora:ava_lora:0.8>" in positive
    assert composed["image"]["negative"] == "blurry, lowres"
    stored = await tools.call("get_clip", clip_id=walk["id"])
    assert stored["image_prompt"] == "Ava walks toward camera"  # composition never rewrites stored text

    alternate = await tools.call("create_alternate_scene", scene_id=intro["id"], copy_clips=True)
    assert alternate["changed"]["name"] == "Intro A1" and len(alternate["clip_ids"]) == 2

    timeline = await tools.call("analyze_timeline", project_id=pid)
    assert timeline["has_issues"] is True  # the "Eyes" video clip has no video prompt (a text clip needs none)
    close_report = next(s for s in timeline["scenes"] if s["scene_id"] == close_ups["id"])
    assert [m["missing"] for m in close_report["missing_prompts"]] == ["video_prompt"]
    intro_report = next(s for s in timeline["scenes"] if s["scene_id"] == intro["id"])
    assert intro_report["overlaps"] == [] and intro_report["length"] == 7.0

    tree = await tools.call("get_project_tree", project_id=pid)
    top = [(s["name"], s.get("start")) for s in tree["scenes"]]
    assert [name for name, _ in top] == ["Intro", "Chorus"]
    chorus_node = tree["scenes"][1]
    assert [s["name"] for s in chorus_node["sub_scenes"]] == ["Close-ups"]
    assert [s["name"] for s in tree["scenes"][0]["alternates"]] == ["Intro A1"]
    assert tree["clip_count"] == 6

    markdown = await tools.client.read_resource(f"storyboard://projects/{pid}/storyboard.md")
    text = markdown.contents[0].text
    for expected in ("Neon Rain", "Intro", "Chorus", "Close-ups", "Ava walks", "Ava", "Neon noir", "NEON RAIN"):
        assert expected in text, expected
