"""The built-in graph is a valid API-format graph whose links join matching types, for images, LoRA chains and
video, read by class_type the way any client must read it."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_storyboard.integrations.comfyui.graph import (
    DEFAULT_FPS,
    DEFAULT_FRAMES,
    build_graph,
    nodes_of,
)
from mcp_storyboard.models.generation import LoraSpec
from tests.fakes.comfyui_nodes import object_info, validate_graph
from tests.integrations.comfyui.items import (
    empty_image_workflow,
    image_item,
    video_item,
    workflow_item,
)

CHECKPOINTS = ["sdxl_base.safetensors"]
LORAS = ["detail_tweaker.safetensors", "film_grain.safetensors"]


def links_join_matching_types(graph: dict[str, Any]) -> list[str]:
    """Every ``[source, slot]`` link, described as a mismatch when the source's output type is not the input's."""
    catalog = object_info(CHECKPOINTS, LORAS)
    wrong = []
    for node_id, node in graph.items():
        declared = catalog[node["class_type"]]["input"]["required"]
        for name, value in node["inputs"].items():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                produced = catalog[graph[value[0]]["class_type"]]["output"][value[1]]
                if [produced] != declared[name][:1]:
                    wrong.append(f"{node_id}.{name} <- {value}: {produced} vs {declared[name][0]}")
    return wrong


def one(graph: dict[str, Any], class_type: str) -> dict[str, Any]:
    found = nodes_of(graph, class_type)
    assert len(found) == 1, f"{class_type}: {found}"
    return graph[found[0]]


def test_an_image_graph_carries_every_parameter_and_is_valid() -> None:
    item = image_item(width=832, height=1216, steps=30, cfg=5.5, sampler_name="dpmpp_2m", scheduler="karras",
                      seed=2**63 - 1, denoise=0.9)
    graph = build_graph(item, filename_prefix="storyboard/clip")
    assert validate_graph(graph, CHECKPOINTS, LORAS) == (None, {})
    assert links_join_matching_types(graph) == []
    assert one(graph, "CheckpointLoaderSimple")["inputs"] == {"ckpt_name": "sdxl_base.safetensors"}
    assert one(graph, "EmptyLatentImage")["inputs"] == {"width": 832, "height": 1216, "batch_size": 1}
    sampler = one(graph, "KSampler")["inputs"]
    assert {k: sampler[k] for k in ("seed", "steps", "cfg", "sampler_name", "scheduler", "denoise")} == {
        "seed": 2**63 - 1, "steps": 30, "cfg": 5.5, "sampler_name": "dpmpp_2m", "scheduler": "karras", "denoise": 0.9}
    texts = {graph[n]["inputs"]["text"]: n for n in nodes_of(graph, "CLIPTextEncode")}
    assert sampler["positive"] == [texts["a lighthouse at dusk"], 0] and sampler["negative"] == [texts["blurry"], 0]
    assert one(graph, "SaveImage")["inputs"]["filename_prefix"] == "storyboard/clip"
    assert nodes_of(graph, "LoraLoader") == [] and nodes_of(graph, "SaveVideo") == []


def test_loras_are_chained_in_order_and_feed_the_sampler_and_both_encoders() -> None:
    item = image_item(loras=[LoraSpec(name=LORAS[0], strength=0.6), LoraSpec(name=LORAS[1], strength=-1.5)])
    graph = build_graph(item, filename_prefix="p")
    assert validate_graph(graph, CHECKPOINTS, LORAS) == (None, {})
    assert links_join_matching_types(graph) == []
    first, second = nodes_of(graph, "LoraLoader")
    checkpoint = nodes_of(graph, "CheckpointLoaderSimple")[0]
    assert graph[first]["inputs"] == {"model": [checkpoint, 0], "clip": [checkpoint, 1], "lora_name": LORAS[0],
                                      "strength_model": 0.6, "strength_clip": 0.6}
    assert graph[second]["inputs"]["model"] == [first, 0] and graph[second]["inputs"]["clip"] == [first, 1]
    assert (graph[second]["inputs"]["strength_model"], graph[second]["inputs"]["lora_name"]) == (-1.5, LORAS[1])
    assert one(graph, "KSampler")["inputs"]["model"] == [second, 0]
    assert {graph[n]["inputs"]["clip"][0] for n in nodes_of(graph, "CLIPTextEncode")} == {second}


@pytest.mark.parametrize(("frames", "fps", "batch", "rate"), [(24, 12.0, 24, 12.0), (None, None, DEFAULT_FRAMES,
                                                                                   DEFAULT_FPS)])
def test_a_video_graph_renders_frames_as_one_batch_into_create_video_and_save_video(
    frames: int | None, fps: float | None, batch: int, rate: float
) -> None:
    graph = build_graph(video_item(frames=frames, fps=fps), filename_prefix="storyboard/clip")
    assert validate_graph(graph, CHECKPOINTS, LORAS) == (None, {})
    assert links_join_matching_types(graph) == []
    assert one(graph, "EmptyLatentImage")["inputs"]["batch_size"] == batch
    create = nodes_of(graph, "CreateVideo")[0]
    assert graph[create]["inputs"] == {"images": [nodes_of(graph, "VAEDecode")[0], 0], "fps": rate}
    assert one(graph, "SaveVideo")["inputs"] == {"video": [create, 0], "filename_prefix": "storyboard/clip",
                                                 "format": "auto", "codec": "auto"}
    assert nodes_of(graph, "SaveImage") == []


def test_an_item_with_a_workflow_has_no_built_in_graph() -> None:
    with pytest.raises(ValueError, match="needs a checkpoint"):
        build_graph(workflow_item(empty_image_workflow(), []), filename_prefix="p")
