"""Characters' FaceFusion fields, per-operation parameters, presets and the age-variant gallery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import bson
import pytest
from pydantic import ValidationError

from mcp_storyboard.models import (
    Character,
    CharacterPatch,
    FaceFusionHistoryEntry,
    FaceFusionOutputGallery,
    FaceFusionPreferredSettings,
    FaceFusionPreset,
    FaceFusionPresetPatch,
    validate_parameters,
)
from mcp_storyboard.models.facefusion import (
    AgeAdjustParameters,
    DetectParameters,
    EditParameters,
    EnhanceParameters,
    MaskParameters,
    SwapParameters,
)

PID = "7d6f2c1e-1111-4c2b-9a77-000000000001"
EDITOR_FIELDS = [
    "eyebrow_direction", "eye_gaze_horizontal", "eye_gaze_vertical", "eye_open_ratio", "lip_open_ratio", "mouth_grim",
    "mouth_pout", "mouth_purse", "mouth_smile", "mouth_position_horizontal", "mouth_position_vertical", "head_pitch",
    "head_yaw", "head_roll",
]  # fmt: skip
EMPTY_GALLERY = {"enhanced_faces": [], "age_variants": {}, "swapped_faces": [], "edited_expressions": [], "custom_outputs": []}


def test_legacy_character_reads_with_exactly_the_migration_defaults() -> None:
    legacy = {
        "_id": bson.ObjectId(), "id": PID, "project_id": PID, "name": "Mara", "description": "pilot",
        "reference_images": ["/uploads/characters/x/face.jpg"], "lora": "mara_v2", "trigger_words": "mara",
        "style_notes": "freckles", "generation_method": "ip_adapter", "face_image": "/uploads/faces/m.png",
        "created_at": datetime(2024, 5, 1, 10, 0), "updated_at": datetime(2024, 5, 2, 10, 0),
    }  # fmt: skip
    character = Character.model_validate(legacy)
    dumped = character.model_dump()
    assert dumped["facefusion_processing_history"] == []
    assert dumped["facefusion_preferred_settings"] is None
    assert dumped["facefusion_output_gallery"] == EMPTY_GALLERY
    assert "generation_method" not in dumped and "_id" not in dumped
    assert character.created_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    nulls = {**legacy, "facefusion_processing_history": None, "facefusion_output_gallery": None}
    assert Character.model_validate(nulls).model_dump() == dumped


def test_preferred_settings_defaults_are_the_schemas() -> None:
    settings = FaceFusionPreferredSettings()
    assert settings.model_dump(exclude_none=True) == {
        "enhancement_model": "gfpgan_1.4", "face_enhancer_blend": 1.0, "age_adjustment_blend": 1.0,
        "face_mask_types": ["box"], "face_selector_mode": "one", "face_selector_order": "left-right",
        "face_detector_model": "yoloface", "face_detector_size": "640x640", "face_swapper_model": "inswapper_128",
    }  # fmt: skip
    assert all(getattr(settings, f"face_editor_{name}") is None for name in EDITOR_FIELDS)


def test_detector_size_must_fit_the_model() -> None:
    FaceFusionPreferredSettings(face_detector_model="retinaface", face_detector_size="320x320")
    with pytest.raises(ValidationError, match="face_detector_size"):
        FaceFusionPreferredSettings(face_detector_size="320x320")
    with pytest.raises(ValidationError, match="face_detector_size"):
        DetectParameters(face_detector_model="yunet", face_detector_size="480x480")


def test_age_variants_round_trip_through_bson() -> None:
    gallery = FaceFusionOutputGallery.model_validate({"age_variants": {"45": "https://h/45.png", 25: "https://h/25.png"}})
    assert gallery.age_variants == {25: "https://h/25.png", 45: "https://h/45.png"}
    for mode in ("python", "json"):
        assert gallery.model_dump(mode=mode)["age_variants"] == {"25": "https://h/25.png", "45": "https://h/45.png"}
    stored = bson.decode(bson.encode({"gallery": gallery.model_dump()}))["gallery"]
    assert FaceFusionOutputGallery.model_validate(stored) == gallery
    character = Character(project_id=PID, name="M", facefusion_output_gallery=gallery)
    assert Character.model_validate(bson.decode(bson.encode(character.model_dump()))) == character


@pytest.mark.parametrize("key", ["101", "-1", "twenty", "2.5"])
def test_age_variant_keys_are_ages(key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FaceFusionOutputGallery.model_validate({"age_variants": {key: "https://h/a.png"}})
    assert caught.value.errors()[0]["loc"][0] == "age_variants"


def test_history_entry_reads_legacy_failures_and_keeps_parameters_as_sent() -> None:
    entry = FaceFusionHistoryEntry.model_validate(
        {"operation_type": "age_adjust", "input_image_url": "/uploads/a.png", "output_image_url": "", "success": False,
         "error_message": "timeout", "parameters": {"target_age": 40, "face_editor_blend": 0.5}}
    )  # fmt: skip
    assert entry.output_image_url is None and entry.parameters["face_editor_blend"] == 0.5
    assert entry.processing_time_seconds == 0.0 and entry.media_type == "image"
    video = FaceFusionHistoryEntry.model_validate(
        {"operation_type": "video_enhance", "input_image_url": "/uploads/v.mp4", "output_image_url": "/out/v.mp4", "success": True}
    )
    assert (video.operation_type, video.media_type) == ("enhance", "video")


@pytest.mark.parametrize(
    ("operation", "parameters", "model", "expected"),
    [
        ("enhance", {}, EnhanceParameters, {"enhancement_model": "gfpgan_1.4", "face_enhancer_blend": 1.0}),
        ("enhance", {"enhancement_model": "codeformer", "face_enhancer_blend": 0}, EnhanceParameters, None),
        ("age_adjust", {"target_age": 0}, AgeAdjustParameters, {"target_age": 0, "age_adjustment_blend": 1.0}),
        ("age_adjust", {"target_age": 100, "age_adjustment_blend": 1}, AgeAdjustParameters, None),
        ("swap", {"source_face_url": "/f.png", "target_image_url": "https://h/t.png"}, SwapParameters, None),
        ("edit", {"face_editor_head_roll": -100, "face_editor_mouth_smile": 100}, EditParameters, None),
        ("mask", {"mask_types": ["occlusion", "box", "box"]}, MaskParameters, None),
        ("detect", {"face_detector_model": "scrfd", "face_detector_size": "160x160"}, DetectParameters, None),
    ],
)
def test_validate_parameters_accepts(operation: str, parameters: dict[str, Any], model: type, expected: dict[str, Any] | None) -> None:
    result = validate_parameters(operation, parameters)
    assert isinstance(result, model)
    if expected is not None:
        assert result.model_dump(exclude_none=True) == expected
    if operation == "mask":
        assert result.face_mask_types == ["occlusion", "box"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("operation", "parameters", "field"),
    [
        ("enhance", {"face_enhancer_blend": 1.01}, "face_enhancer_blend"),
        ("enhance", {"face_enhancer_blend": -0.01}, "face_enhancer_blend"),
        ("enhance", {"enhancement_model": "gfpgan_9"}, "enhancement_model"),
        ("enhance", {"face_enhancer_blend": 0.5, "typo": 1}, "typo"),
        ("age_adjust", {}, "target_age"),
        ("age_adjust", {"target_age": 101}, "target_age"),
        ("age_adjust", {"target_age": -1}, "target_age"),
        ("age_adjust", {"target_age": 30, "age_adjustment_blend": 1.5}, "age_adjustment_blend"),
        ("swap", {"target_image_url": "https://h/t.png"}, "source_face_url"),
        ("swap", {"source_face_url": "/s.png", "target_image_url": "/t.png", "face_swapper_model": "x"}, "face_swapper_model"),
        ("edit", {"face_editor_eye_gaze_vertical": 101}, "face_editor_eye_gaze_vertical"),
        ("edit", {"face_editor_lip_open_ratio": -101}, "face_editor_lip_open_ratio"),
        ("mask", {"face_mask_types": []}, "face_mask_types"),
        ("mask", {"face_mask_types": ["blur"]}, "face_mask_types"),
        ("mask", {"face_mask_blur": 2}, "face_mask_blur"),
        ("detect", {"face_detector_size": "1024x1024"}, "face_detector_size"),
        ("teleport", {}, "operation_type"),
    ],
)
def test_validate_parameters_names_the_failing_field(operation: str, parameters: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_parameters(operation, parameters)
    assert field in {str(part) for e in caught.value.errors() for part in e["loc"]}


@pytest.mark.parametrize("name", EDITOR_FIELDS)
def test_each_editor_value_spans_minus_100_to_100(name: str) -> None:
    field = f"face_editor_{name}"
    for ok in (-100, 0, 100):
        assert getattr(validate_parameters("edit", {field: ok}), field) == ok
    for bad in (-101, 101, 1.5):
        with pytest.raises(ValidationError) as caught:
            validate_parameters("edit", {field: bad})
        assert caught.value.errors()[0]["loc"] == (field,)


def test_an_edit_needs_a_value() -> None:
    with pytest.raises(ValidationError, match="at least one face_editor_"):
        validate_parameters("edit", {})


def test_preset_parameters_are_validated_against_the_operation_and_normalised() -> None:
    preset = FaceFusionPreset(name="Soft", operation_type="enhance", parameters={"face_enhancer_blend": 0.5})
    assert preset.parameters == {"enhancement_model": "gfpgan_1.4", "face_enhancer_blend": 0.5}
    assert FaceFusionPreset(name="Old", operation_type="age_adjust", parameters={"target_age": 70}).parameters["target_age"] == 70
    with pytest.raises(ValidationError) as caught:
        FaceFusionPreset(name="Bad", operation_type="enhance", parameters={"face_enhancer_blend": 80})
    error = caught.value.errors()[0]
    assert error["loc"] == ("parameters",) and "face_enhancer_blend" in error["msg"]
    with pytest.raises(ValidationError, match="target_age"):
        FaceFusionPreset(name="Empty", operation_type="age_adjust")  # the default {} is checked too
    with pytest.raises(ValidationError, match="operation_type"):
        FaceFusionPreset(name="Mask", operation_type="mask", parameters={})  # type: ignore[arg-type]


def test_preset_patch_checks_parameters_only_with_an_operation_type() -> None:
    assert FaceFusionPresetPatch(parameters={"anything": 1}).changes() == {"parameters": {"anything": 1}}
    patch = FaceFusionPresetPatch(operation_type="swap", parameters={"source_face_url": "/a.png", "target_image_url": "/b.png"})
    assert patch.changes()["parameters"]["face_swapper_model"] == "inswapper_128"
    with pytest.raises(ValidationError, match="target_age"):
        FaceFusionPresetPatch(operation_type="age_adjust", parameters={"target_age": 200})


def test_character_patch_replaces_preferred_settings() -> None:
    changes = CharacterPatch(facefusion_preferred_settings=FaceFusionPreferredSettings(face_enhancer_blend=0.3)).changes()
    assert changes["facefusion_preferred_settings"]["face_enhancer_blend"] == 0.3
    assert CharacterPatch(facefusion_preferred_settings=None).changes() == {"facefusion_preferred_settings": None}
    with pytest.raises(ValidationError):
        CharacterPatch.model_validate({"facefusion_processing_history": []})
