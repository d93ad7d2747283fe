"""Generation items for the runner tests and the dispatch benchmark."""

from __future__ import annotations

import uuid
from typing import Any

from mcp_storyboard.models.generation import GenerationItem, GenerationParams, LoraSpec


def image_item(checkpoint: str = "sdxl_base.safetensors", *, loras: list[LoraSpec] | None = None,
               **params: Any) -> GenerationItem:
    values: dict[str, Any] = {"width": 512, "height": 768, "steps": 20, "cfg": 7.0, "sampler_name": "euler_ancestral",
                              "scheduler": "karras", "seed": 42, **params}
    return GenerationItem(clip_id=str(uuid.uuid4()), prompt="a lighthouse at dusk", negative_prompt="blurry",
                          checkpoint=checkpoint, loras=loras or [], params=GenerationParams(**values))


def video_item(frames: int | None = 24, fps: float | None = 12.0) -> GenerationItem:
    item = image_item(frames=frames, fps=fps)
    return item.model_copy(update={"kind": "video"})


def workflow_item(workflow: dict[str, Any], inputs: list[dict[str, Any]]) -> GenerationItem:
    return GenerationItem.model_validate({
        "clip_id": str(uuid.uuid4()), "prompt": "a lighthouse", "workflow": workflow, "workflow_inputs": inputs,
        "params": {"width": 512, "height": 512, "steps": 4, "cfg": 1.0, "sampler_name": "euler",
                   "scheduler": "simple", "seed": 7},
    })


def empty_image_workflow() -> dict[str, Any]:
    """A weight-free API-format workflow as ComfyUI exports it (``_meta.title`` on each node)."""
    return {
        "1": {"class_type": "EmptyImage", "_meta": {"title": "Canvas"},
              "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
        "2": {"class_type": "SaveImage", "_meta": {"title": "Save"},
              "inputs": {"images": ["1", 0], "filename_prefix": "custom/shot"}},
    }
