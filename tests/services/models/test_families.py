"""Base-model family detection on real file names, and every family's built-in presets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mcp_storyboard.models.catalog import CANONICAL_BASE_MODELS, InferenceParameters
from mcp_storyboard.models.samplers import SAMPLERS, SCHEDULERS
from mcp_storyboard.services.models.families import (
    BUILT_IN_PRESETS,
    built_in_preset,
    detect_base_model,
)

# File names as they are published (Hugging Face repos of the model makers, ComfyUI's examples, CivitAI downloads).
REAL_NAMES: list[tuple[str, str | None]] = [
    ("v1-5-pruned-emaonly.safetensors", "SD 1.5"),  # the original said SDXL
    ("v1-5-pruned.ckpt", "SD 1.5"),
    ("models/checkpoints/sd15/dreamshaper_8.safetensors", "SD 1.5"),
    ("v2-1_768-ema-pruned.safetensors", "SD 2.1"),
    ("sd_xl_base_1.0.safetensors", "SDXL"),
    ("sd_xl_refiner_1.0.safetensors", "SDXL"),
    ("sdxl_vae.safetensors", "SDXL"),
    ("juggernautXL_v9Rdphoto2Lightning.safetensors", "SDXL"),
    ("RealVisXL_V4.0.safetensors", "SDXL"),
    ("animagineXLV31_v31.safetensors", "SDXL"),
    ("dreamshaperXL_lightningDPMSDE.safetensors", "SDXL"),
    ("ponyDiffusionV6XL_v6StartWithThisOne.safetensors", "Pony"),  # the original said SDXL
    ("loras/pony/style_lora.safetensors", "Pony"),
    ("illustriousXL_v01.safetensors", "Illustrious"),
    ("noobaiXLNAIXL_vPred10Version.safetensors", "NoobAI"),
    ("flux1-dev.safetensors", "Flux.1 D"),
    ("flux1-dev-fp8.safetensors", "Flux.1 D"),
    ("flux1-schnell.safetensors", "Flux.1 S"),
    ("flux1-krea-dev_fp8_scaled.safetensors", "Flux.1 Krea"),
    ("flux1-dev-kontext_fp8_scaled.safetensors", "Flux.1 Kontext"),
    ("wan2.1_t2v_14B_fp16.safetensors", "Wan Video"),
    ("Wan2_1-I2V-14B-480P_fp8_e4m3fn.safetensors", "Wan Video"),
    ("wan_2.1_vae.safetensors", "Wan Video"),
    ("wan2.1_vace_14B_fp16.safetensors", "Wan Video"),
    ("wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors", "Wan Video 2.2"),
    ("wan2.2_ti2v_5B_fp16.safetensors", "Wan Video 2.2"),
    ("Wan2.2-T2V-A14B", "Wan Video 2.2"),
    ("hidream_i1_full_fp16.safetensors", "HiDream"),
    ("qwen_image_fp8_e4m3fn.safetensors", "Qwen"),
    ("qwen_image_edit_2509_fp8_e4m3fn.safetensors", "Qwen"),
    ("ltx-video-2b-v0.9.5.safetensors", "LTXV"),
    ("ltxv-13b-0.9.7-dev.safetensors", "LTXV"),
    ("hunyuan_video_t2v_720p_bf16.safetensors", "Hunyuan Video"),
    ("sd3.5_large.safetensors", "SD 3.5"),
    ("sd3_medium_incl_clips.safetensors", "SD 3"),
    ("svd_xt.safetensors", "SVD"),
    ("stable_cascade_stage_c.safetensors", "Stable Cascade"),
    # Names that do not say: no guess (the original guessed SDXL for all of them).
    ("dreamshaper_8.safetensors", None),
    ("Realistic_Vision_V5.1_noVAE.safetensors", None),
    ("epicrealism_naturalSinRC1VAE.safetensors", None),
    ("swan_lake_v1.safetensors", None),  # "wan" inside a word is not Wan
    ("pixlart_v2.safetensors", None),  # "xl" inside a word is not SDXL
]


@pytest.mark.parametrize(("file_name", "family"), REAL_NAMES, ids=[n for n, _ in REAL_NAMES])
def test_detect_base_model_reads_real_file_names(file_name: str, family: str | None) -> None:
    assert detect_base_model(file_name) == family


def test_every_detected_family_is_a_canonical_base_model_with_built_in_presets() -> None:
    detected = {family for _, family in REAL_NAMES if family is not None}
    assert detected <= set(CANONICAL_BASE_MODELS)
    assert detected - {"SD 2.1", "SD 3", "SD 3.5", "SVD", "Stable Cascade"} <= set(BUILT_IN_PRESETS)


@pytest.mark.parametrize("family", sorted(BUILT_IN_PRESETS))
def test_built_in_presets_use_comfyui_names_and_quality_takes_more_steps(family: str) -> None:
    quality, _ = built_in_preset(family, "quality")
    speed, origin = built_in_preset(family, "speed")
    for preset in (quality, speed):
        assert preset.sampler_name in SAMPLERS and preset.scheduler in SCHEDULERS
    assert quality.steps > speed.steps
    assert origin == f"{family} defaults"


def test_a_family_without_presets_gets_the_generic_ones() -> None:
    params, origin = built_in_preset("Other", "quality")
    assert origin == "generic defaults" and params.sampler_name in SAMPLERS


@pytest.mark.parametrize(("field", "wrong", "suggestion"), [
    ("sampler_name", "euler_a", "euler_ancestral"), ("sampler_name", "dpmpp_2m_karas", "dpmpp_2m"),
    ("scheduler", "karas", "karras"),
])  # fmt: skip
def test_sampler_and_scheduler_names_are_comfyuis_and_errors_suggest_the_real_one(
    field: str, wrong: str, suggestion: str
) -> None:
    good = {"steps": 20, "cfg_scale": 7.0, "sampler_name": "euler", "scheduler": "normal"}
    with pytest.raises(ValidationError) as caught:
        InferenceParameters.model_validate({**good, field: wrong})
    error = caught.value.errors()[0]
    assert error["loc"] == (field,)
    assert f"'{suggestion}'" in error["msg"] and "Allowed:" in error["msg"]
