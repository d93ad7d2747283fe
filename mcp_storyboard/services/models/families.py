"""Base-model family detection from a model's file name or path, and each family's built-in presets.

Detection reads the name the way people write it (``ponyDiffusionV6XL``, ``wan2.2_t2v_high_noise``,
``v1-5-pruned-emaonly``) and returns one of ``CANONICAL_BASE_MODELS`` or None. The rules run in order, most
specific first, which is where the original app went wrong: it tested "any xl" before "pony" (so Pony XL became
SDXL), had no rule for ``v1-5`` and fell back to SDXL for everything it did not know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mcp_storyboard.models.catalog import InferenceParameters, PresetType


@dataclass(frozen=True)
class _Rule:
    family: str
    pattern: re.Pattern[str]


def _rule(family: str, pattern: str) -> _Rule:
    return _Rule(family, re.compile(pattern))


# Matched against the lower-cased path; (?<![a-z]) / (?![a-z]) stand in for word edges, since names mix
# "_", "-", "." and camel case. Order matters: a Pony or Illustrious checkpoint also says "XL".
_RULES: tuple[_Rule, ...] = (
    _rule("Pony", r"pony"),
    _rule("Illustrious", r"illustrious"),
    _rule("NoobAI", r"noob"),
    _rule("Flux.1 Kontext", r"flux.*kontext|kontext.*flux"),
    _rule("Flux.1 Krea", r"flux.*krea|krea.*flux"),
    _rule("Flux.1 S", r"flux.*schnell|schnell"),
    _rule("Flux.1 D", r"flux"),
    _rule("Wan Video 2.2", r"(?<![a-z])wan[\s._-]?2[._]?2(?![0-9])"),
    _rule("Wan Video", r"(?<![a-z])wan(?:[\s._-]?2[._]?1(?![0-9])|video|[\s._-]|$)"),
    _rule("HiDream", r"hi[\s._-]?dream"),
    _rule("Qwen", r"qwen"),
    _rule("LTXV", r"(?<![a-z])ltx"),
    _rule("Hunyuan Video", r"hunyuan[\s._-]?video"),
    _rule("SD 3.5", r"(?<![a-z])sd[\s._-]?3[._]5"),
    _rule("SD 3", r"(?<![a-z])sd[\s._-]?3(?![0-9])|stable[\s._-]?diffusion[\s._-]?3"),
    _rule("SVD", r"(?<![a-z])svd(?![a-z])|stable[\s._-]?video"),
    _rule("Stable Cascade", r"stable[\s._-]?cascade"),
    _rule("SDXL", r"sd[\s._-]?xl|(?<![a-z])xl(?![a-z])"),
    _rule("SD 1.5", r"(?<![a-z0-9])v1[-_.]5|(?<![a-z])sd[\s._-]?v?1[-_.]?5(?![0-9])|stable[\s._-]?diffusion[\s._-]?1[._]5"),
    _rule("SD 2.1", r"(?<![a-z0-9])v2[-_.]1|(?<![a-z])sd[\s._-]?v?2[-_.]?1(?![0-9])"),
)
# Camel-case "XL" (juggernautXL_v9, animagineXLV31) marks SDXL where the lower-cased name has no word edge.
_CAMEL_XL = re.compile(r"[a-z0-9]XL|XL[A-Z0-9_]")


def detect_base_model(name_or_path: str) -> str | None:
    """The base-model family a file name or path names, e.g. ``"ponyDiffusionV6XL.safetensors"`` → "Pony",
    ``"v1-5-pruned-emaonly.safetensors"`` → "SD 1.5"; None when the name does not say."""
    lowered = name_or_path.lower()
    for rule in _RULES:
        if rule.pattern.search(lowered):
            return rule.family
    return "SDXL" if _CAMEL_XL.search(name_or_path) else None


@dataclass(frozen=True)
class FamilyPresets:
    """A family's built-in quality and speed parameters."""

    quality: InferenceParameters
    speed: InferenceParameters

    def of(self, preset_type: PresetType) -> InferenceParameters:
        return self.quality if preset_type == "quality" else self.speed


def _p(steps: int, cfg: float, sampler: str, scheduler: str) -> InferenceParameters:
    return InferenceParameters(steps=steps, cfg_scale=cfg, sampler_name=sampler, scheduler=scheduler)


# The original's table (reference/original-app.md, Appendix C) with ComfyUI's real sampler names
# (its "euler_a" is "euler_ancestral"); quality first, then speed.
_GENERIC = FamilyPresets(_p(30, 7.0, "dpmpp_2m", "karras"), _p(15, 6.0, "euler", "normal"))
BUILT_IN_PRESETS: dict[str, FamilyPresets] = {
    "SDXL": FamilyPresets(_p(35, 7.5, "dpmpp_2m", "karras"), _p(15, 6.0, "dpmpp_2m", "karras")),
    "Pony": FamilyPresets(_p(28, 7.0, "dpmpp_2m", "karras"), _p(12, 6.5, "euler_ancestral", "normal")),
    "Illustrious": FamilyPresets(_p(25, 7.0, "dpmpp_2m", "karras"), _p(12, 6.0, "euler_ancestral", "normal")),
    "NoobAI": FamilyPresets(_p(25, 7.0, "dpmpp_2m", "karras"), _p(12, 6.0, "euler_ancestral", "normal")),
    "SD 1.5": FamilyPresets(_p(30, 7.0, "dpmpp_2m", "karras"), _p(15, 7.0, "euler_ancestral", "normal")),
    "Flux.1 D": FamilyPresets(_p(28, 3.5, "euler", "simple"), _p(8, 2.0, "euler", "simple")),
    "Flux.1 S": FamilyPresets(_p(8, 2.0, "dpmpp_2m", "karras"), _p(4, 1.5, "euler", "simple")),
    "Flux.1 Krea": FamilyPresets(_p(8, 1.5, "euler", "simple"), _p(4, 1.0, "euler", "simple")),
    "Flux.1 Kontext": FamilyPresets(_p(15, 3.5, "dpmpp_2m", "karras"), _p(6, 2.0, "euler", "simple")),
    "Wan Video": FamilyPresets(_p(25, 7.5, "ddim", "normal"), _p(15, 7.0, "ddim", "normal")),
    "Wan Video 2.2": FamilyPresets(_p(20, 7.5, "dpmpp_2m", "karras"), _p(8, 6.5, "euler", "simple")),
    "HiDream": FamilyPresets(_p(25, 6.5, "dpmpp_2m", "karras"), _p(12, 5.0, "euler_ancestral", "karras")),
    "Qwen": FamilyPresets(_p(20, 7.0, "dpmpp_2m", "karras"), _p(10, 5.5, "euler_ancestral", "normal")),
    "LTXV": FamilyPresets(_p(20, 3.0, "dpmpp_2m", "karras"), _p(10, 2.5, "euler", "simple")),
    "Hunyuan Video": FamilyPresets(_p(30, 7.5, "dpmpp_2m", "karras"), _p(15, 6.0, "euler", "simple")),
}


def built_in_preset(base_model: str, preset_type: PresetType) -> tuple[InferenceParameters, str]:
    """The built-in parameters for a family and where they come from ("SDXL defaults", "generic defaults")."""
    family = BUILT_IN_PRESETS.get(base_model)
    if family is None:
        return _GENERIC.of(preset_type), "generic defaults"
    return family.of(preset_type), f"{base_model} defaults"
