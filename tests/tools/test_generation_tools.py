"""Queueing generation through the tools: generate_clip_media and generate_batch resolve each clip's prompt
(explicit, else composed with its character and style template), checkpoint, LoRAs, parameters (explicit, else the
model's preset and family defaults) and seed before the one insert; bad input is refused naming the field, with
nothing written."""

from __future__ import annotations

from typing import Any

from mcp_storyboard.models.generation import GenerationBatch
from tests.tools.conftest import ToolClient
from tests.tools.generation_world import CHECKPOINT, SPEED, generation_world

WORKFLOW: dict[str, Any] = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "model": ["4", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "a.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}, "_meta": {"title": "Positive"}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}, "_meta": {"title": "Negative"}},
}


async def stored(tools: ToolClient, batch_id: str) -> GenerationBatch:
    return await tools.services.generation.get(batch_id)


async def test_a_clip_is_queued_with_its_composed_prompt_the_models_preset_and_a_stored_seed(tools: ToolClient) -> None:
    w = await generation_world(tools.services)
    queued = await tools.call("generate_clip_media", clip_id=w.clip_ids[0], model_id=w.model_id, preset="speed")
    seed = queued["clips"][0]["seed"]
    assert queued == {"id": queued["id"], "uri": f"storyboard://generation-batches/{queued['id']}", "status": "queued",
                      "total_jobs": 1, "position": 0, "retry_of": None, "clips": [{"clip_id": w.clip_ids[0],
                                                                                   "seed": seed}]}
    composed = (await tools.services.style_templates.compose(w.clip_ids[0])).image
    batch = await stored(tools, queued["id"])
    (item,) = batch.items
    assert (batch.project_id, batch.clip_id, batch.total_jobs, batch.status) == (w.project_id, w.clip_ids[0], 1,
                                                                                 "queued")
    assert item.prompt == composed.positive and item.prompt.startswith("mara_v2 Mara, a courier in a red coat.")
    assert "film noir, high contrast" in item.prompt and item.negative_prompt == "blurry, lowres"
    assert (item.model_id, item.checkpoint, item.kind) == (w.model_id, CHECKPOINT, "image")
    assert [(lora.name, lora.strength) for lora in item.loras] == [("mara_lora", 0.8)]  # the character's LoRA
    params = item.params
    assert (params.steps, params.cfg, params.sampler_name, params.scheduler) == (
        SPEED.steps, SPEED.cfg_scale, SPEED.sampler_name, SPEED.scheduler)
    assert (params.width, params.height, params.seed, params.frames) == (1024, 1024, seed, None)  # SDXL size
    view = await tools.call("get_generation_batch", batch_id=queued["id"])
    assert view["clips"][0]["status"] == "queued" and view["clips"][0]["prompt"] == item.prompt
    assert view["clips"][0]["loras"] == ["mara_lora:0.8"] and view["clips"][0]["params"]["steps"] == SPEED.steps
    # Another queueing draws another seed.
    again = await tools.call("generate_clip_media", clip_id=w.clip_ids[0], model_id=w.model_id)
    assert again["clips"][0]["seed"] != seed and again["position"] == 1


async def test_explicit_values_win_and_a_video_gets_the_familys_frames(tools: ToolClient) -> None:
    w = await generation_world(tools.services)
    queued = await tools.call(
        "generate_clip_media", clip_id=w.clip_ids[0], kind="video", prompt="as written", negative_prompt="no text",
        checkpoint="wan2.1_t2v_1.3B.safetensors", loras=[{"name": "mara_lora", "strength": 0.5}],
        params={"width": 832, "height": 480, "steps": 12, "seed": 42, "sampler_name": "uni_pc", "fps": 12})
    (item,) = (await stored(tools, queued["id"])).items
    assert (item.kind, item.prompt, item.negative_prompt, item.checkpoint, item.model_id) == (
        "video", "as written", "no text", "wan2.1_t2v_1.3B.safetensors", None)
    assert [(lora.name, lora.strength) for lora in item.loras] == [("mara_lora", 0.5)]  # not loaded twice
    p = item.params
    assert (p.width, p.height, p.steps, p.seed, p.sampler_name, p.fps, p.frames) == (
        832, 480, 12, 42, "uni_pc", 12.0, 33)
    # The generic quality preset fills what was not given.
    assert (p.cfg, p.scheduler) == (7.0, "karras")


async def test_the_size_and_frames_follow_the_models_family(tools: ToolClient) -> None:
    w = await generation_world(tools.services)
    await tools.call("create_model", model_id="v1-5-pruned-emaonly.safetensors", name="SD 1.5", type="checkpoint",
                     path="sd/v1-5-pruned-emaonly.safetensors")
    await tools.call("create_model", model_id="wan2.1_t2v_14B.safetensors", name="Wan", type="checkpoint",
                     path="wan2.1_t2v_14B.safetensors", base_model="Wan Video")
    sd15 = await tools.call("generate_clip_media", clip_id=w.clip_ids[1], model_id="v1-5-pruned-emaonly.safetensors")
    wan = await tools.call("generate_clip_media", clip_id=w.clip_ids[0], kind="video",
                           model_id="wan2.1_t2v_14B.safetensors")
    (image,), (video,) = (await stored(tools, sd15["id"])).items, (await stored(tools, wan["id"])).items
    assert (image.params.width, image.params.height, image.params.steps, image.params.frames) == (512, 512, 30, None)
    assert (video.kind, video.params.width, video.params.height, video.params.frames, video.params.fps) == (
        "video", 832, 480, 81, 16.0)
    assert video.prompt.startswith("mara_v2 Mara") and "camera follows her down the alley" in video.prompt


async def test_the_clips_inference_preset_names_the_model(tools: ToolClient) -> None:
    w = await generation_world(tools.services)
    await tools.services.repositories.clips.update_fields(w.clip_ids[1], {"inference_config_id": f"{w.model_id}:speed"})
    queued = await tools.call("generate_clip_media", clip_id=w.clip_ids[1])
    (item,) = (await stored(tools, queued["id"])).items
    assert (item.model_id, item.checkpoint, item.params.steps, item.prompt) == (
        w.model_id, CHECKPOINT, SPEED.steps, "wide shot 2 of the harbour")
    assert item.loras == []


async def test_a_batch_keeps_the_clip_order_and_per_clip_overrides(tools: ToolClient) -> None:
    w = await generation_world(tools.services)
    clips = [{"clip_id": w.clip_ids[2], "seed": 7}, {"clip_id": w.clip_ids[0]},
             {"clip_id": w.clip_ids[1], "prompt": "close-up", "negative_prompt": "dark"}]
    queued = await tools.call("generate_batch", project_id=w.project_id, clips=clips, model_id=w.model_id,
                              negative_prompt="watermark", params={"steps": 5})
    batch = await stored(tools, queued["id"])
    assert (batch.total_jobs, batch.clip_id) == (3, None)
    assert [i.clip_id for i in batch.items] == [w.clip_ids[2], w.clip_ids[0], w.clip_ids[1]]
    assert queued["clips"][0]["seed"] == 7 and [i.params.steps for i in batch.items] == [5, 5, 5]
    assert batch.items[1].negative_prompt == "watermark, blurry, lowres"  # merged with the template's
    assert (batch.items[2].prompt, batch.items[2].negative_prompt) == ("close-up", "dark")
    assert batch.items[0].negative_prompt == "watermark"


async def test_a_custom_workflow_is_accepted_with_patches_by_id_or_title(tools: ToolClient) -> None:
    w = await generation_world(tools.services)
    patches = [{"node": "Positive", "input": "text", "value": "from the patch"}, {"node": "3", "input": "steps",
                                                                                   "value": 8}]
    queued = await tools.call("generate_clip_media", clip_id=w.clip_ids[1], workflow=WORKFLOW, workflow_inputs=patches)
    (item,) = (await stored(tools, queued["id"])).items
    assert item.workflow == WORKFLOW and item.checkpoint is None
    assert [(p.node, p.input, p.value) for p in item.workflow_inputs] == [("Positive", "text", "from the patch"),
                                                                          ("3", "steps", 8)]


async def test_bad_requests_are_refused_naming_the_field_and_write_nothing(tools: ToolClient) -> None:
    w = await generation_world(tools.services)
    other = await generation_world(tools.services, "Other")
    lora = await tools.call("create_model", model_id="detail.safetensors", name="Detail", type="lora")
    await tools.call("create_model", model_id="old.safetensors", name="Old", type="checkpoint", path="old.safetensors")
    await tools.call("set_model_active", model_id="old.safetensors", active=False)
    server = await tools.call("register_comfyui_server", name="Off", url="http://127.0.0.1:9", is_active=False)
    clip = w.clip_ids[1]
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("generate_clip_media", {"clip_id": w.bare_clip_id, "checkpoint": "a"}, "[invalid-argument] prompt: clip"),
        ("generate_clip_media", {"clip_id": w.bare_clip_id, "kind": "video", "checkpoint": "a"}, "has no video_prompt"),
        ("generate_clip_media", {"clip_id": "ghost"}, "[not-found] clip 'ghost'"),
        ("generate_clip_media", {"clip_id": clip}, "[invalid-argument] model_id: is needed"),
        ("generate_clip_media", {"clip_id": clip, "model_id": "nope"}, "[not-found] model 'nope'"),
        ("generate_clip_media", {"clip_id": clip, "model_id": lora["id"]}, "is a lora, not a checkpoint"),
        ("generate_clip_media", {"clip_id": clip, "model_id": "old.safetensors"}, "is withdrawn"),
        ("generate_clip_media", {"clip_id": clip, "checkpoint": "a", "server_id": server["id"]},
         "[invalid-argument] server_id: ComfyUI server"),
        ("generate_clip_media", {"clip_id": clip, "checkpoint": "a", "server_id": "ghost"},
         "[not-found] ComfyUI server 'ghost'"),
        ("generate_clip_media", {"clip_id": clip, "checkpoint": "a", "params": {"frames": 9}},
         "[invalid-argument] params.frames: applies to video only"),
        ("generate_clip_media", {"clip_id": clip, "checkpoint": "a", "params": {"width": 1001}}, "width"),
        ("generate_clip_media", {"clip_id": clip, "checkpoint": "a", "params": {"sampler_name": "euler_a"}},
         "euler_ancestral"),
        ("generate_clip_media", {"clip_id": clip, "checkpoint": "a", "preset": "fast"}, "preset"),
        ("generate_clip_media", {"clip_id": clip, "checkpoint": "a", "workflow_inputs": [
            {"node": "3", "input": "seed", "value": 1}]}, "[invalid-argument] workflow_inputs: need a workflow"),
        ("generate_clip_media", {"clip_id": clip, "workflow": {"nodes": [], "links": []}}, "UI format"),
        ("generate_clip_media", {"clip_id": clip, "workflow": {"1": {"inputs": {}}}},
         "[invalid-argument] workflow.1: is not a node: it needs a 'class_type' string"),
        ("generate_clip_media", {"clip_id": clip, "workflow": WORKFLOW, "workflow_inputs": [
            {"node": "Sampler", "input": "seed", "value": 1}]}, ("workflow_inputs[0].node: no node has the id or "
                                                                  "title 'Sampler'. Nodes: 3 (KSampler)")),
        ("generate_clip_media", {"clip_id": clip, "workflow": WORKFLOW, "workflow_inputs": [
            {"node": "3", "input": "sead", "value": 1}]}, ("node 3 (KSampler) has no input 'sead'. Allowed "
                                                           "values: model, seed, steps")),
        ("generate_clip_media", {"clip_id": clip, "workflow": {**WORKFLOW, "8": {**WORKFLOW["7"], "_meta": {
            "title": "Positive"}}, "9": {**WORKFLOW["7"], "_meta": "not an object"}}, "workflow_inputs": [
            {"node": "Positive", "input": "text", "value": "x"}]}, ("the title 'Positive' is shared by nodes 6, 8. "
                                                                    "Name the node by its id instead")),
        ("generate_clip_media", {"clip_id": clip, "checkpoint": "a", "params": {"steps": None}}, "params.steps"),
        ("generate_clip_media", {"clip_id": clip, "checkpoint": "a", "params": {"strength": 1}}, "strength"),
        ("generate_batch", {"project_id": w.project_id, "clips": [{"clip_id": clip}, {"clip_id": w.bare_clip_id}],
                            "checkpoint": "a"}, "[invalid-argument] clips[1].prompt: clip"),
        ("generate_batch", {"project_id": w.project_id, "clips": [{"clip_id": clip}, {"clip_id": clip}],
                            "checkpoint": "a"}, "[invalid-argument] clips[1].clip_id: clip"),
        ("generate_batch", {"project_id": w.project_id, "clips": [{"clip_id": other.clip_ids[0]}],
                            "checkpoint": "a"}, f"belongs to project {other.project_id}, not to project"),
        ("generate_batch", {"project_id": "ghost", "clips": [{"clip_id": clip}], "checkpoint": "a"},
         "[not-found] project 'ghost'"),
        ("generate_batch", {"project_id": w.project_id, "clips": [], "checkpoint": "a"}, "clips"),
        ("generate_batch", {"project_id": w.project_id, "clips": [{"clip_id": clip, "seed": -1}], "checkpoint": "a"},
         "seed"),
    ]
    for tool, arguments, expected in cases:
        text = await tools.refused(tool, **arguments)
        assert expected in text, (tool, arguments, text)
    assert await tools.services.generation.batches.count() == 0
