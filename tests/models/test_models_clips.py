"""Clips: timeline rounding, legacy ``length``, and gallery entries (objects, legacy plain URLs)."""

from __future__ import annotations

import uuid

import bson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from mcp_storyboard.models import Clip, GeneratedMedia
from mcp_storyboard.models.clips import legacy_media_id

PID = "7d6f2c1e-1111-4c2b-9a77-000000000001"
BASE = {"scene_id": PID, "project_id": PID}


@given(st.floats(min_value=0.0, max_value=10_000.0, allow_nan=False, allow_infinity=False))
def test_timeline_position_is_rounded_to_two_decimals_within_range(position: float) -> None:
    stored = Clip.model_validate({**BASE, "timeline_position": position}).timeline_position
    assert 0.0 <= stored <= 10_000.0
    assert round(stored, 2) == stored
    assert abs(stored - position) <= 0.005 + 1e-9
    assert str(stored) != "-0.0"


def test_rounding_examples() -> None:
    assert Clip.model_validate({**BASE, "timeline_position": 1.234}).timeline_position == 1.23
    assert Clip.model_validate({**BASE, "timeline_position": 9999.999}).timeline_position == 10_000.0
    assert Clip.model_validate({**BASE, "timeline_position": "12.5"}).timeline_position == 12.5


def test_legacy_length_reads_as_duration() -> None:
    clip = Clip.model_validate({**BASE, "length": 7.5})
    assert clip.duration == 7.5 and "length" not in clip.model_dump()
    with pytest.raises(ValidationError) as caught:
        Clip.model_validate({**BASE, "length": 0})
    assert caught.value.errors()[0]["loc"] == ("length",)


def test_legacy_plain_url_entries_read_as_objects_with_stable_ids() -> None:
    url = "http://comfy.lan:8188/view?filename=ComfyUI_0001.png"
    raw = {**BASE, "generated_images": [url, {"id": PID, "url": "https://h/b.png"}], "generated_videos": [" /uploads/v.mp4 "]}
    first, second = Clip.model_validate(raw), Clip.model_validate(raw)
    legacy = first.generated_images[0]
    assert isinstance(legacy, GeneratedMedia)
    assert legacy.url == url and legacy.created_at is None and legacy.prompt == "" and legacy.params == {}
    assert legacy.id == str(uuid.uuid5(uuid.NAMESPACE_URL, url)) == legacy_media_id(url)
    assert legacy.id == second.generated_images[0].id  # stable across reads
    assert first.generated_images[1].id == PID
    assert first.generated_videos[0].url == "/uploads/v.mp4"
    assert first.generated_videos[0].id == legacy_media_id("/uploads/v.mp4")
    # Written back, the entry is an object that reads as itself.
    again = Clip.model_validate(bson.decode(bson.encode(first.model_dump())))
    assert again.generated_images == first.generated_images


def test_original_app_gallery_objects_are_read() -> None:
    entry = GeneratedMedia.model_validate(
        {"id": PID, "content_type": "image", "url": "/uploads/a.png", "prompt": "a cat", "server_id": "openai",
         "server_name": "Sora", "model_name": "sdxl.safetensors", "model_type": "checkpoint", "is_selected": True,
         "generation_params": {"seed": 42, "cfg": 7.0, "fast": True, "loras": [{"name": "x"}], "sampler": None}}
    )  # fmt: skip
    assert entry.model == "sdxl.safetensors"
    assert entry.params == {"seed": 42, "cfg": 7.0, "fast": True, "sampler": None}
    assert "content_type" not in entry.model_dump()


def test_new_entries_get_random_ids_and_a_time() -> None:
    a, b = GeneratedMedia(url="storyboard://media/1"), GeneratedMedia(url="storyboard://media/1")
    assert a.id != b.id and a.created_at is not None


def test_gallery_params_are_scalars_only() -> None:
    with pytest.raises(ValidationError) as caught:
        GeneratedMedia(url="https://h/a.png", params={"loras": ["a"]})  # type: ignore[dict-item]
    assert caught.value.errors()[0]["loc"][:2] == ("params", "loras")
    entry = GeneratedMedia(url="https://h/a.png", params={"seed": 1, "w": 1.5, "on": True, "s": "x", "n": None})
    assert entry.params == {"seed": 1, "w": 1.5, "on": True, "s": "x", "n": None}
    assert type(entry.params["on"]) is bool and type(entry.params["seed"]) is int


def test_gallery_urls_are_checked() -> None:
    with pytest.raises(ValidationError) as caught:
        Clip.model_validate({**BASE, "generated_images": ["file:///etc/passwd"]})
    assert caught.value.errors()[0]["loc"][:2] == ("generated_images", 0)
