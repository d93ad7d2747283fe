"""What a health check learns from ``/system_stats`` and ``/object_info``: versions, devices and VRAM, and the
checkpoints, LoRAs, samplers and schedulers the server accepts.

Only these named facts are kept. ``/system_stats`` also reports the server's command line (``argv``), which can
hold tokens and paths: it is never read, so it can never be stored or shown.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Device(BaseModel):
    """A compute device ComfyUI reports; sizes in bytes (on a CPU the VRAM figures are system RAM)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    type: str
    vram_total: int | None = None
    vram_free: int | None = None


class Capabilities(BaseModel):
    """What a server can run, as of its last successful check."""

    comfyui_version: str | None = None
    devices: list[Device] = Field(default_factory=list)
    checkpoints: list[str] = Field(default_factory=list)
    loras: list[str] = Field(default_factory=list)
    samplers: list[str] = Field(default_factory=list)
    schedulers: list[str] = Field(default_factory=list)


CAPABILITY_NODES = ("CheckpointLoaderSimple", "LoraLoader", "KSampler")
"""The node classes whose combo inputs list what a server can run. A check asks for these alone: the whole
``/object_info`` of a real install is about 0.5 MB, and parsing it cost a check several times the rest of its work
(``tests/benchmarks/bench_comfyui_check.py``)."""


def capabilities_from(system_stats: dict[str, Any], object_info: dict[str, Any]) -> Capabilities:
    """The capabilities in a server's answers (``object_info``: at least the ``CAPABILITY_NODES``); missing or odd
    parts give empty lists, never an error."""
    system = system_stats.get("system")
    version = system.get("comfyui_version") if isinstance(system, dict) else None
    raw_devices = system_stats.get("devices")
    devices = [Device.model_validate(d) for d in raw_devices if _is_device(d)] if isinstance(raw_devices, list) else []
    return Capabilities(
        comfyui_version=version if isinstance(version, str) else None,
        devices=devices,
        checkpoints=combo_choices(object_info, "CheckpointLoaderSimple", "ckpt_name"),
        loras=combo_choices(object_info, "LoraLoader", "lora_name"),
        samplers=combo_choices(object_info, "KSampler", "sampler_name"),
        schedulers=combo_choices(object_info, "KSampler", "scheduler"),
    )


def combo_choices(object_info: dict[str, Any], node_class: str, input_name: str) -> list[str]:
    """The choices of a combo input, in either shape ComfyUI writes: legacy ``[[choice, ...], {options}]`` or V3
    ``["COMBO", {"options": [choice, ...]}]``; ``[]`` when the node or input is absent."""
    node = object_info.get(node_class)
    inputs = node.get("input") if isinstance(node, dict) else None
    if not isinstance(inputs, dict):
        return []
    for section in ("required", "optional"):
        spec = inputs.get(section, {}).get(input_name) if isinstance(inputs.get(section), dict) else None
        if not isinstance(spec, list) or not spec:
            continue
        if isinstance(spec[0], list):
            return [str(choice) for choice in spec[0]]
        if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
            options = spec[1].get("options")
            return [str(choice) for choice in options] if isinstance(options, list) else []
    return []


def _is_device(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("name"), str) and isinstance(value.get("type"), str)
