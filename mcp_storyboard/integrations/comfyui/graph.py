"""The built-in API-format graph of a generation item (``reference/comfyui-api.md`` §1.10), built from core nodes
only, so it runs on any ComfyUI install that has the checkpoint:

    image: CheckpointLoaderSimple → LoraLoader × n → CLIPTextEncode × 2 → EmptyLatentImage → KSampler → VAEDecode
           → SaveImage
    video: the same with ``frames`` latents in one batch, then VAEDecode → CreateVideo(fps) → SaveVideo

Plain functions, no I/O. Node ids follow ComfyUI's own txt2img example ("4" the checkpoint, "3" the sampler, ...);
code that reads a graph finds nodes by ``class_type`` (:func:`nodes_of`), never by those ids, because custom
workflows number their nodes freely.
"""

from __future__ import annotations

from typing import Any

from mcp_storyboard.models.generation import GenerationItem

Graph = dict[str, Any]
"""An API-format graph: ``{node_id: {"class_type": str, "inputs": {name: literal | [node_id, slot]}}}``."""

DEFAULT_FRAMES = 16
"""Frames of a video item whose params leave ``frames`` unset."""
DEFAULT_FPS = 8.0
"""Frames per second of a video item whose params leave ``fps`` unset."""
FIRST_LORA_ID = 20
"""LoRA loaders are numbered from here, clear of the fixed nodes."""


def build_graph(item: GenerationItem, *, filename_prefix: str) -> Graph:
    """The built-in graph for ``item`` (which names a ``checkpoint``); outputs are saved under ``filename_prefix``
    (ComfyUI turns a ``/`` in it into a subfolder).

    Raises:
        ValueError: the item has no checkpoint (it carries a custom workflow instead).
    """
    if item.checkpoint is None:
        raise ValueError("the built-in graph needs a checkpoint; run the item's workflow instead")
    params = item.params
    graph: Graph = {"4": _node("CheckpointLoaderSimple", ckpt_name=item.checkpoint)}
    model, clip = ["4", 0], ["4", 1]
    for offset, lora in enumerate(item.loras):
        node_id = str(FIRST_LORA_ID + offset)
        graph[node_id] = _node("LoraLoader", model=model, clip=clip, lora_name=lora.name,
                               strength_model=lora.strength, strength_clip=lora.strength)
        model, clip = [node_id, 0], [node_id, 1]
    frames = (params.frames or DEFAULT_FRAMES) if item.kind == "video" else 1
    graph.update({
        "6": _node("CLIPTextEncode", text=item.prompt, clip=clip),
        "7": _node("CLIPTextEncode", text=item.negative_prompt, clip=clip),
        "5": _node("EmptyLatentImage", width=params.width, height=params.height, batch_size=frames),
        "3": _node("KSampler", model=model, positive=["6", 0], negative=["7", 0], latent_image=["5", 0],
                   seed=params.seed, steps=params.steps, cfg=params.cfg, sampler_name=params.sampler_name,
                   scheduler=params.scheduler, denoise=params.denoise),
        "8": _node("VAEDecode", samples=["3", 0], vae=["4", 2]),
    })
    if item.kind == "video":
        graph["9"] = _node("CreateVideo", images=["8", 0], fps=params.fps or DEFAULT_FPS)
        # format/codec "auto" are SaveVideo's defaults; spelled out because v0.3.x requires them in API graphs.
        graph["10"] = _node("SaveVideo", video=["9", 0], filename_prefix=filename_prefix, format="auto",
                            codec="auto")
    else:
        graph["9"] = _node("SaveImage", images=["8", 0], filename_prefix=filename_prefix)
    return graph


def nodes_of(graph: Graph, class_type: str) -> list[str]:
    """The ids of the nodes of one class, in graph order."""
    return [node_id for node_id, node in graph.items()
            if isinstance(node, dict) and node.get("class_type") == class_type]


def _node(class_type: str, **inputs: Any) -> dict[str, Any]:
    return {"class_type": class_type, "inputs": inputs}
