"""Base-model normalisation, server URL normalisation, batch results and user accounts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mcp_storyboard.models import (
    ComfyUIServer,
    ComfyUIServerPatch,
    DatabaseModel,
    DatabaseModelPatch,
    GenerationBatch,
    User,
    normalize_base_model,
    normalize_server_url,
)
from mcp_storyboard.models.catalog import CANONICAL_BASE_MODELS

PID = "7d6f2c1e-1111-4c2b-9a77-000000000001"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("SD 1.5", "SD 1.5"), ("sd15", "SD 1.5"), ("SD1.5", "SD 1.5"), ("sd_1_5", "SD 1.5"), ("sd-1.5", "SD 1.5"),
        ("Stable Diffusion 1.5", "SD 1.5"), ("sd 1.4", "SD 1.4"), ("SD 2.0", "SD 2.0"), ("sd20", "SD 2.0"),
        ("SD 2.1 768", "SD 2.1"), ("SDXL", "SDXL"), ("sdxl", "SDXL"), ("sdxl 1.0", "SDXL"), ("SDXL 1.0", "SDXL"),
        ("sdxl_base", "SDXL"), ("Stable Diffusion XL", "SDXL"), ("SD 3", "SD 3"), ("sd3", "SD 3"), ("SD 3.5", "SD 3.5"),
        ("sd35", "SD 3.5"), ("Pony", "Pony"), ("pony", "Pony"), ("Pony XL", "Pony"), ("ponyDiffusionV6XL", "Pony"),
        ("illustrious", "Illustrious"), ("Illustrious XL", "Illustrious"), ("Flux.1 D", "Flux.1 D"),
        ("flux1-dev", "Flux.1 D"), ("flux_dev", "Flux.1 D"), ("Flux.1D", "Flux.1 D"),
        ("Flux.1 S", "Flux.1 S"), ("flux_schnell", "Flux.1 S"), ("flux_kontext", "Flux.1 Kontext"),
        ("flux_krea", "Flux.1 Krea"), ("Wan Video", "Wan Video"), ("wan_2_1", "Wan Video"), ("wan 2.2", "Wan Video 2.2"),
        ("hidream", "HiDream"), ("HiDream", "HiDream"), ("qwen", "Qwen"), ("qwen_image", "Qwen"),
        ("hunyuan_video", "Hunyuan Video"), ("Hunyuan Video", "Hunyuan Video"), ("ltxv", "LTXV"), ("ltx_video", "LTXV"),
        ("other", "Other"), ("Unknown", "Other"), ("", "Other"), ("   ", "Other"),
        ("  SDXL 1.0  ", "SDXL"), ("  Some New Arch v9 ", "Some New Arch v9"), ("Hunyuan 1", "Hunyuan 1"),
        ("SDXL Lightning", "SDXL Lightning"),
    ],
)  # fmt: skip
def test_normalize_base_model(raw: str, canonical: str) -> None:
    assert normalize_base_model(raw) == canonical


def test_canonical_names_are_fixed_points() -> None:
    for name in CANONICAL_BASE_MODELS:
        assert normalize_base_model(name) == name
        assert normalize_base_model(name.upper()) == name


def test_base_model_field_is_normalised() -> None:
    model = DatabaseModel(id="m.safetensors", name="M", type="lora", base_model="sdxl 1.0", path="loras/m.safetensors")
    assert model.base_model == "SDXL"
    assert DatabaseModel(id="m", name="M", type="lora", path="m").base_model == "Other"
    assert DatabaseModelPatch(base_model="sd15").changes() == {"base_model": "SD 1.5"}


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("http://localhost:8188/", "http://localhost:8188"),
        ("  HTTP://Box.LAN:8188//  ", "http://box.lan:8188"),
        ("https://gpu.example.com:443/", "https://gpu.example.com"),
        ("http://gpu:80", "http://gpu"),
        ("https://api.runpod.ai/v2/abc123/", "https://api.runpod.ai/v2/abc123"),
        ("http://[::1]:8188/", "http://[::1]:8188"),
        ("http://10.0.0.5:8188/comfy/", "http://10.0.0.5:8188/comfy"),
    ],
)
def test_server_url_normalisation(raw: str, normalised: str) -> None:
    assert normalize_server_url(raw) == normalised
    assert ComfyUIServer(name="s", url=raw).url == normalised
    assert ComfyUIServerPatch(url=raw).changes() == {"url": normalised}


def test_batch_results_read_legacy_urls() -> None:
    batch = GenerationBatch.model_validate({"project_id": PID, "results": ["https://h/a.png", {"clip_id": PID, "success": False, "error": "boom"}]})
    assert batch.results[0].url == "https://h/a.png" and batch.results[0].success and batch.results[0].created_at is None
    assert batch.results[1].error == "boom" and not batch.results[1].success


def test_user_never_takes_a_plain_password() -> None:
    with pytest.raises(ValidationError, match="hashed_password"):
        User.model_validate({"username": "alice", "email": "a@b.co", "hashed_password": "h", "password": "hunter22"})
    user = User(username="alice", email="a@b.co", hashed_password="$2b$12$secret")
    assert "password" not in user.model_dump() and "secret" not in repr(user)
    assert "password" not in User.model_fields
