"""The fake ComfyUI's node catalog (``/object_info`` in both combo shapes) and its graph validation (the real 400
shapes of ``POST /prompt``: ``invalid_prompt``, ``prompt_no_outputs``, ``prompt_outputs_failed_validation``)."""

from __future__ import annotations

from typing import Any

SAMPLERS = [
    "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2", "dpm_2",
    "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_sde_gpu",
    "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_2m_sde_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm", "lcm", "ipndm",
    "deis", "res_multistep", "ddim", "uni_pc", "uni_pc_bh2",
]
SCHEDULERS = ["simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal",
              "linear_quadratic", "kl_optimal"]
SAVE_NODES = frozenset({"SaveImage", "PreviewImage", "SaveVideo", "SaveWEBM"})


def _node(required: dict[str, Any], output: list[str], *, output_node: bool = False, category: str = "") -> dict[str, Any]:
    return {
        "input": {"required": required, "optional": {}, "hidden": {}}, "input_order": {"required": list(required)},
        "output": output, "output_is_list": [False] * len(output), "output_name": output, "name": "",
        "display_name": "", "description": "", "python_module": "nodes", "category": category,
        "output_node": output_node,
    }


def object_info(checkpoints: list[str], loras: list[str]) -> dict[str, Any]:
    """The fake's nodes: legacy combos ``[[choices], {..}]`` and one V3 ``["COMBO", {"options": ..}]``."""
    number = ["INT", {"default": 0, "min": 0}]
    nodes = {
        "CheckpointLoaderSimple": _node({"ckpt_name": [list(checkpoints), {"tooltip": "checkpoint"}]},
                                        ["MODEL", "CLIP", "VAE"], category="loaders"),
        "LoraLoader": _node({"model": ["MODEL"], "clip": ["CLIP"], "lora_name": [list(loras), {}],
                             "strength_model": ["FLOAT", {}], "strength_clip": ["FLOAT", {}]}, ["MODEL", "CLIP"]),
        "CLIPTextEncode": _node({"text": ["STRING", {"multiline": True}], "clip": ["CLIP"]}, ["CONDITIONING"]),
        "EmptyLatentImage": _node({"width": number, "height": number, "batch_size": number}, ["LATENT"]),
        "KSampler": _node({
            "model": ["MODEL"], "seed": number, "steps": number, "cfg": ["FLOAT", {}],
            "sampler_name": [list(SAMPLERS), {}], "scheduler": [list(SCHEDULERS), {}],
            "positive": ["CONDITIONING"], "negative": ["CONDITIONING"], "latent_image": ["LATENT"],
            "denoise": ["FLOAT", {}],
        }, ["LATENT"], category="sampling"),
        "VAEDecode": _node({"samples": ["LATENT"], "vae": ["VAE"]}, ["IMAGE"]),
        "EmptyImage": _node({"width": number, "height": number, "batch_size": number, "color": number}, ["IMAGE"]),
        "SaveImage": _node({"images": ["IMAGE"], "filename_prefix": ["STRING", {"default": "ComfyUI"}]}, [],
                           output_node=True),
        "PreviewImage": _node({"images": ["IMAGE"]}, [], output_node=True),
        "SaveVideo": _node({"video": ["VIDEO"], "filename_prefix": ["STRING", {"default": "video/ComfyUI"}],
                            "format": ["COMBO", {"options": ["auto", "mp4"], "multiselect": False}]}, [],
                           output_node=True),
        "CreateVideo": _node({"images": ["IMAGE"], "fps": ["FLOAT", {}]}, ["VIDEO"]),
    }
    for name, info in nodes.items():
        info["name"] = info["display_name"] = name
    return nodes


def _combo_choices(spec: list[Any]) -> list[str] | None:
    if isinstance(spec[0], list):
        return [str(c) for c in spec[0]]
    if spec[0] == "COMBO":
        return [str(c) for c in spec[1].get("options", [])]
    return None


def _node_error(kind: str, message: str, details: str, received: Any = None) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details,
            "extra_info": {"received_value": received, "input_config": None}}


def validate_graph(graph: Any, checkpoints: list[str], loras: list[str]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """``(error, node_errors)`` of an API-format graph the way ComfyUI answers; ``(None, {})`` when valid."""
    catalog = object_info(checkpoints, loras)
    if not isinstance(graph, dict):
        return _invalid("Prompt is not a graph"), {}
    for node_id, node in graph.items():
        if not isinstance(node, dict) or "class_type" not in node:
            return _invalid("Cannot execute because a node is missing the class_type property.",
                            f"Node ID '#{node_id}'"), {}
        if node["class_type"] not in catalog:
            return _invalid(f"Cannot execute because node {node['class_type']} does not exist.",
                            f"Node ID '#{node_id}'"), {}
    outputs = [n for n, node in graph.items() if catalog[node["class_type"]]["output_node"]]
    if not outputs:
        return {"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "", "extra_info": {}}, {}
    node_errors: dict[str, Any] = {}
    for node_id, node in graph.items():
        errors = []
        inputs = node.get("inputs", {})
        for name, spec in catalog[node["class_type"]]["input"]["required"].items():
            if name not in inputs:
                if len(spec) > 1 and isinstance(spec[1], dict) and "default" in spec[1]:
                    continue
                errors.append(_node_error("required_input_missing", "Required input is missing", name))
                continue
            value = inputs[name]
            if isinstance(value, list) and len(value) == 2 and str(value[0]) not in graph:
                errors.append(_node_error("bad_linked_input", "Bad linked input, must be a length-2 list of "
                                          "[string, int]", f"{name}, {value}", value))
                continue
            choices = _combo_choices(spec)
            if choices is not None and not isinstance(value, list) and value not in choices:
                errors.append(_node_error("value_not_in_list", "Value not in list",
                                          f"{name}: '{value}' not in {choices}", value))
        if errors:
            node_errors[node_id] = {"errors": errors, "dependent_outputs": outputs, "class_type": node["class_type"]}
    if node_errors:
        return {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                "details": "", "extra_info": {}}, node_errors
    return None, {}


def _invalid(message: str, details: str = "") -> dict[str, Any]:
    return {"type": "invalid_prompt", "message": message, "details": details, "extra_info": {}}
