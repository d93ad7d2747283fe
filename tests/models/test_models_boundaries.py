"""Every range and length boundary of the stored documents (and their patches): accepted on the edge, refused
one step past it, with the field named in the error."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from mcp_storyboard.models import (
    Character,
    CharacterPatch,
    CivitAIModel,
    Clip,
    ClipPatch,
    ComfyUIServer,
    DatabaseModel,
    DatabaseModelPatch,
    FaceFusionHistoryEntry,
    FaceFusionJob,
    FaceFusionJobPatch,
    FaceFusionPreferredSettings,
    FaceFusionPreset,
    FaceFusionPresetPatch,
    GenerationBatch,
    GenerationBatchPatch,
    InferenceConfiguration,
    Project,
    ProjectPatch,
    Scene,
    ScenePatch,
    User,
    UserPatch,
)

PID = "7d6f2c1e-1111-4c2b-9a77-000000000001"
SID = "7d6f2c1e-1111-4c2b-9a77-000000000002"
INF, NAN = float("inf"), float("nan")

PATCHES: dict[type[BaseModel], type[BaseModel]] = {
    Project: ProjectPatch, Scene: ScenePatch, Clip: ClipPatch, Character: CharacterPatch,
    FaceFusionJob: FaceFusionJobPatch, FaceFusionPreset: FaceFusionPresetPatch, DatabaseModel: DatabaseModelPatch,
    GenerationBatch: GenerationBatchPatch, User: UserPatch,
}  # fmt: skip

SCENE = {"project_id": PID, "name": "s"}
CLIP = {"scene_id": SID, "project_id": PID}
CHARACTER = {"project_id": PID, "name": "c"}
JOB = {"project_id": PID, "job_type": "enhance"}
HISTORY = {"operation_type": "enhance", "input_image_url": "https://x/a.png", "success": True}
DBMODEL = {"id": "sd_xl_base_1.0.safetensors", "name": "SDXL", "type": "checkpoint", "path": "sd_xl_base_1.0.safetensors"}
INFERENCE = {"model_id": "m", "preset_type": "quality", "parameters": {"steps": 20, "cfg_scale": 7, "sampler_name": "euler", "scheduler": "normal"}}
USER = {"username": "alice", "email": "a@example.com", "hashed_password": "$2b$12$abc"}

# (document, base data, field, accepted values, refused values)
CASES: list[tuple[type[BaseModel], dict[str, Any], str, list[Any], list[Any]]] = [
    (Project, {}, "name", ["a", "x" * 200], ["", "   ", "x" * 201]),
    (Project, {"name": "p"}, "description", ["", "x" * 2000], ["x" * 2001]),
    (Project, {"name": "p"}, "music_duration", [0.0, 3600.5, None], [-0.01, INF, NAN]),
    (Project, {"name": "p"}, "thumbnail_url", ["https://h/t.png", "/uploads/t.png", "storyboard://media/abc"],
     ["file:///etc/passwd", "javascript:alert(1)", "/uploads/../secret", "has space", "", "h" * 2049]),
    (Scene, SCENE, "order", [0, 10_000], [-1, 1.5]),
    (Scene, SCENE, "name", ["x" * 200], ["", "x" * 201]),
    (Scene, SCENE, "lyrics", ["x" * 5000], ["x" * 5001]),
    (Scene, SCENE, "alternate_number", [1, None], [0]),
    (Scene, SCENE, "project_id", [PID], ["", "a b", "{$gt: ''}", "x" * 65]),
    (Clip, CLIP, "timeline_position", [0, 0.0, 10_000, 9999.994], [-0.001, 10_000.001, INF, NAN]),
    (Clip, CLIP, "duration", [0.001, 10_000], [0, -1, 10_000.01, INF, NAN]),
    (Clip, CLIP, "order", [0], [-1]),
    (Clip, CLIP, "type", ["image", "video", "text"], ["audio", ""]),
    (Clip, CLIP, "name", ["", "x" * 200], ["x" * 201]),
    (Clip, CLIP, "lyrics", ["x" * 5000], ["x" * 5001]),
    (Clip, CLIP, "image_prompt", ["x" * 10_000, None], ["x" * 10_001]),
    (Clip, CLIP, "alternate_number", [1], [0]),
    (Character, CHARACTER, "lora", ["x" * 200, None], ["x" * 201]),
    (Character, CHARACTER, "trigger_words", ["x" * 500], ["x" * 501]),
    (Character, CHARACTER, "style_notes", ["x" * 2000], ["x" * 2001]),
    (Character, CHARACTER, "description", ["x" * 2000], ["x" * 2001]),
    (Character, CHARACTER, "name", ["x" * 200], ["", "x" * 201]),
    (Character, CHARACTER, "reference_images", [[], ["https://h/a.png"] * 100], [["https://h/a.png"] * 101, ["file:///a"]]),
    (FaceFusionHistoryEntry, HISTORY, "processing_time_seconds", [0, 12.5], [-0.1, INF]),
    (FaceFusionHistoryEntry, HISTORY, "operation_type", ["enhance", "age_adjust", "swap", "edit", "mask", "detect"], ["teleport", "video_teleport"]),
    (FaceFusionPreferredSettings, {}, "face_enhancer_blend", [0.0, 1.0], [-0.01, 1.01]),
    (FaceFusionPreferredSettings, {}, "age_adjustment_blend", [0.0, 1.0], [-0.01, 1.01]),
    (FaceFusionPreferredSettings, {}, "face_editor_head_yaw", [-100, 100, None], [-101, 101]),
    (FaceFusionPreferredSettings, {}, "face_mask_types", [["box"], ["occlusion", "area", "region"]], [[], ["blur"]]),
    (FaceFusionPreferredSettings, {}, "face_selector_mode", ["one", "many", "all"], ["reference", "some"]),
    (FaceFusionPreferredSettings, {}, "enhancement_model", ["gfpgan_1.4", "codeformer", "restoreformer_plus_plus", "gpen_bfr_512"], ["gfpgan"]),
    (FaceFusionPreferredSettings, {}, "face_swapper_model", ["inswapper_128", "inswapper_256", "hyperswap_1a_256"], ["inswapper"]),
    (FaceFusionPreferredSettings, {}, "face_selector_order", ["left-right", "best-worst"], ["left"]),
    (FaceFusionJob, JOB, "progress", [0, 100], [-0.1, 100.1]),
    (FaceFusionJob, JOB, "priority", [-100, 0, 100], [-101, 101]),
    (FaceFusionJob, JOB, "status", ["queued", "processing", "completed", "failed", "cancelled"], ["partial", "done"]),
    (FaceFusionJob, JOB, "job_type", ["enhance", "age_adjust", "swap", "edit", "mask", "detect", "batch"], ["video", "Enhance"]),
    (FaceFusionJob, JOB, "attempts", [0], [-1]),
    (FaceFusionJob, JOB, "max_attempts", [1, 10], [0, 11]),
    (FaceFusionPreset, {"operation_type": "enhance"}, "name", ["x" * 200], ["", "x" * 201]),
    (FaceFusionPreset, {"name": "p", "operation_type": "enhance"}, "use_count", [0], [-1]),
    (DatabaseModel, DBMODEL, "type", ["checkpoint", "lora", "embedding", "controlnet", "vae", "upscaler"], ["unet"]),
    (DatabaseModel, DBMODEL, "civitai_id", [1, None], [0]),
    (DatabaseModel, DBMODEL, "trigger_words", ["x" * 500], ["x" * 501]),
    (DatabaseModel, DBMODEL, "tags", [["a"] * 100], [["a"] * 101, [""]]),
    (DatabaseModel, DBMODEL, "id", ["checkpoints/SDXL/model v2.safetensors"], ["", "a\nb"]),
    (DatabaseModel, DBMODEL, "base_model", ["x" * 100], ["x" * 101]),
    (InferenceConfiguration, INFERENCE, "preset_type", ["quality", "speed"], ["fast"]),
    (CivitAIModel, {"name": "m", "type": "Checkpoint"}, "id", [1], [0, "abc"]),
    (GenerationBatch, {"project_id": PID}, "status", ["queued", "processing", "completed", "failed", "cancelled", "partial"], ["done"]),
    (GenerationBatch, {"project_id": PID}, "total_jobs", [0], [-1]),
    (GenerationBatch, {"project_id": PID}, "max_attempts", [1, 10], [0, 11]),
    (ComfyUIServer, {"name": "s"}, "url", ["http://h", "https://h:8188/x/"], ["ftp://h", "http://", "http://u:p@h", "http://h/?a=1", "h:8188", "http://h:99999"]),
    (ComfyUIServer, {"name": "s", "url": "http://h"}, "status", ["online", "offline", "error"], ["busy"]),
    (User, USER, "username", ["abc", "a" * 50, "  Alice_1 "], ["ab", "a" * 51, "al ice", "-alice"]),
    (User, USER, "email", ["a@b.co", " Bob@Example.COM "], ["a@b", "a b@c.d", "@c.d", "a@@c.d", "a@" + "b" * 250 + ".de"]),
    (User, USER, "hashed_password", ["x"], [""]),
]  # fmt: skip


def _ids() -> list[str]:
    return [f"{doc.__name__}.{field}" for doc, _, field, _, _ in CASES]


def _mentions(error: ValidationError, field: str) -> bool:
    return any(field in (str(part) for part in e["loc"]) for e in error.errors())


@pytest.mark.parametrize(("document", "base", "field", "accepted", "refused"), CASES, ids=_ids())
def test_boundaries_of_document(document: type[BaseModel], base: dict[str, Any], field: str,
                                accepted: list[Any], refused: list[Any]) -> None:  # fmt: skip
    for value in accepted:
        document.model_validate({**base, field: value})
    for value in refused:
        with pytest.raises(ValidationError) as caught:
            document.model_validate({**base, field: value})
        assert _mentions(caught.value, field), (value, caught.value.errors())


@pytest.mark.parametrize(
    ("document", "field", "accepted", "refused"),
    [(d, f, a, r) for d, _, f, a, r in CASES if d in PATCHES and f in PATCHES[d].model_fields],
    ids=[f"{d.__name__}Patch.{f}" for d, _, f, _, _ in CASES if d in PATCHES and f in PATCHES[d].model_fields],
)
def test_patch_has_the_same_constraints(document: type[BaseModel], field: str, accepted: list[Any], refused: list[Any]) -> None:
    patch = PATCHES[document]
    for value in accepted:
        assert field in patch.model_validate({field: value}).changes()  # type: ignore[attr-defined]
    for value in refused:
        with pytest.raises(ValidationError) as caught:
            patch.model_validate({field: value})
        assert _mentions(caught.value, field)


def test_inference_parameter_boundaries_name_the_nested_field() -> None:
    good = INFERENCE["parameters"]
    for field, ok, bad in [("steps", [1, 200], [0, 201]), ("cfg_scale", [0.01, 30], [0, 30.1]), ("denoise", [0, 1], [-0.1, 1.1]),
                           ("sampler_name", ["euler_ancestral", "dpmpp_2m"], ["", "euler_a", "x" * 101]),
                           ("scheduler", ["karras", "simple"], ["", "Karras", "karras_exp"])]:  # fmt: skip
        for value in ok:
            InferenceConfiguration.model_validate({**INFERENCE, "parameters": {**good, field: value}})
        for value in bad:
            with pytest.raises(ValidationError) as caught:
                InferenceConfiguration.model_validate({**INFERENCE, "parameters": {**good, field: value}})
            assert caught.value.errors()[0]["loc"] == ("parameters", field)


def test_patch_refuses_null_for_a_required_field_and_unknown_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        ProjectPatch(name=None)  # type: ignore[arg-type]
    assert _mentions(caught.value, "name")
    with pytest.raises(ValidationError) as caught:
        ProjectPatch.model_validate({"owner_id": PID})
    assert _mentions(caught.value, "owner_id")
    with pytest.raises(ValidationError):
        ClipPatch.model_validate({"scene_id": SID})
    with pytest.raises(ValidationError):
        UserPatch.model_validate({"password": "hunter22"})
