"""Behaviour every stored document shares: defaults, collection names, ``_id``, UTC timestamps, patches, schemas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import bson
import pytest
from pydantic import BaseModel

import mcp_storyboard.models as models
from mcp_storyboard.models import (
    DOCUMENT_CLASSES,
    CivitAIModel,
    Clip,
    ClipPatch,
    ComfyUIServer,
    DatabaseModel,
    FaceFusionJob,
    GenerationBatch,
    InferenceConfiguration,
    Project,
    ProjectPatch,
    Scene,
    ScenePatch,
    User,
)

PID = "7d6f2c1e-1111-4c2b-9a77-000000000001"
SCHEMA_COLLECTIONS = [
    "projects", "scenes", "clips", "characters", "style_templates", "facefusion_jobs", "facefusion_presets",
    "database_models", "inference_configurations", "civitai_models", "generation_batches", "users", "comfyui_servers",
]  # fmt: skip


def test_one_document_class_per_collection() -> None:
    assert [cls.collection for cls in DOCUMENT_CLASSES] == SCHEMA_COLLECTIONS  # type: ignore[attr-defined]


def test_defaults() -> None:
    project = Project(name="P")
    assert (project.description, project.thumbnail_url, project.owner_id, project.music_media_id) == ("", None, None, None)
    assert project.music_duration is None and len(project.id) == 36
    scene = Scene(project_id=PID, name="S")
    assert (scene.order, scene.parent_scene_id, scene.is_alternate, scene.alternate_number, scene.lyrics) == (0, None, False, None, "")
    assert "clips" not in Scene.model_fields
    clip = Clip(scene_id=PID, project_id=PID)
    assert (clip.type, clip.order, clip.timeline_position, clip.duration) == ("image", 0, 0.0, 5.0)
    assert (clip.generated_images, clip.generated_videos, clip.selected_image_id, clip.alternate_of) == ([], [], None, None)
    job = FaceFusionJob(project_id=PID, job_type="swap")
    assert (job.status, job.priority, job.progress, job.attempts, job.max_attempts, job.lease_owner) == ("queued", 0, 0.0, 0, 3, None)
    batch = GenerationBatch(project_id=PID)
    assert (batch.status, batch.total_jobs, batch.results, batch.attempts, batch.max_attempts) == ("queued", 0, [], 0, 3)
    server = ComfyUIServer(name="box", url="http://box:8188/")
    assert (server.url, server.status, server.is_active, server.last_check, server.capabilities) == ("http://box:8188", "offline", True, None, {})
    user = User(username="Alice", email="Alice@Example.com", hashed_password="h")
    assert (user.username, user.email, user.is_active, user.is_admin) == ("alice", "alice@example.com", True, False)


def test_catalog_documents_have_no_generated_uuid() -> None:
    config = InferenceConfiguration.model_validate(
        {"model_id": "flux1-dev.safetensors", "preset_type": "speed",
         "parameters": {"steps": 8, "cfg_scale": 1.0, "sampler_name": "euler", "scheduler": "simple"}}
    )  # fmt: skip
    assert "id" not in InferenceConfiguration.model_fields and "id" not in config.model_dump()
    assert config.parameters.denoise == 1.0
    assert config.key == "flux1-dev.safetensors:speed"
    assert InferenceConfiguration.split_key("a:b.safetensors:quality") == ("a:b.safetensors", "quality")
    with pytest.raises(ValueError):
        DatabaseModel.model_validate({"name": "m", "type": "lora", "path": "m"})  # id is required, not generated
    civitai = CivitAIModel.model_validate({"id": 4201, "name": "Realistic", "type": "Checkpoint", "modelVersions": [{"id": 1, "baseModel": "SD 1.5"}]})
    assert civitai.model_versions == [{"id": 1, "baseModel": "SD 1.5"}]
    assert isinstance(civitai.model_dump()["id"], int)


@pytest.mark.parametrize("cls", DOCUMENT_CLASSES, ids=lambda c: c.__name__)
def test_mongo_id_is_ignored(cls: type[BaseModel]) -> None:
    sample = _sample(cls)
    raw = {"_id": bson.ObjectId(), **sample.model_dump()}
    again = cls.model_validate(raw)
    assert "_id" not in again.model_dump()
    assert again == sample


@pytest.mark.parametrize("cls", DOCUMENT_CLASSES, ids=lambda c: c.__name__)
def test_dump_survives_bson_and_naive_datetimes_read_as_utc(cls: type[BaseModel]) -> None:
    sample = _sample(cls)
    # PyMongo without tz_aware=True (and mongomock) hand back naive UTC datetimes.
    raw = bson.decode(bson.encode(sample.model_dump()))
    assert raw["created_at"].tzinfo is None
    again = cls.model_validate(raw)
    assert again.created_at.tzinfo is not None and again.created_at.utcoffset() == timedelta(0)  # type: ignore[attr-defined]
    assert again == sample


def test_aware_datetimes_are_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=2))
    job = FaceFusionJob(project_id=PID, job_type="enhance", started_at=datetime(2025, 6, 1, 14, 0, tzinfo=paris))
    assert job.started_at == datetime(2025, 6, 1, 12, 0, tzinfo=UTC) and job.started_at.tzinfo == UTC
    naive = FaceFusionJob.model_validate({"project_id": PID, "job_type": "enhance", "lease_expires_at": datetime(2025, 1, 1, 9)})
    assert naive.lease_expires_at == datetime(2025, 1, 1, 9, tzinfo=UTC)


def test_patch_changes_keep_explicit_none_and_omit_unset() -> None:
    assert ProjectPatch().changes() == {}
    assert ProjectPatch(thumbnail_url=None).changes() == {"thumbnail_url": None}
    assert ProjectPatch(name="  New  ", music_duration=12.0).changes() == {"name": "New", "music_duration": 12.0}
    assert ScenePatch(order=3).changes() == {"order": 3}
    assert ClipPatch(timeline_position=1.005, character_id=None).changes() == {"timeline_position": 1.0, "character_id": None}


def test_every_field_is_described_in_the_json_schema() -> None:
    classes = [obj for name in models.__all__ if isinstance(obj := getattr(models, name), type) and issubclass(obj, BaseModel)]
    for cls in classes:
        if cls.__name__ in {"Page", "Patch", "Document", "StoryboardModel", "Timestamped"}:
            continue
        for mode in ("validation", "serialization"):
            properties = cls.model_json_schema(mode=mode)["properties"]  # type: ignore[arg-type]
            undocumented = [name for name, prop in properties.items() if not prop.get("description")]
            assert not undocumented, (cls.__name__, undocumented)


def test_patch_schema_has_no_null_default_on_non_nullable_fields() -> None:
    name = ProjectPatch.model_json_schema()["properties"]["name"]
    assert name["type"] == "string" and "default" not in name


def _sample(cls: type[BaseModel]) -> BaseModel:
    created = datetime(2025, 3, 4, 5, 6, 7, 8000, tzinfo=UTC)
    data: dict[str, object] = {
        "Project": {"name": "P", "music_duration": 90.5},
        "Scene": {"project_id": PID, "name": "S", "parent_scene_id": PID, "is_alternate": True, "alternate_number": 2},
        "Clip": {"scene_id": PID, "project_id": PID, "timeline_position": 12.345, "generated_images": ["https://h/a.png"]},
        "Character": {"project_id": PID, "name": "C", "facefusion_output_gallery": {"age_variants": {"30": "https://h/30.png"}}},
        "StyleTemplate": {"name": "Noir", "style_strength": 0.5},
        "FaceFusionJob": {"project_id": PID, "job_type": "batch", "input_data": {"ops": [{"a": 1}]}},
        "FaceFusionPreset": {"name": "Soft", "operation_type": "enhance", "parameters": {"face_enhancer_blend": 0.4}},
        "DatabaseModel": {"id": "ponyDiffusionV6XL.safetensors", "name": "Pony", "type": "checkpoint",
                          "base_model": "pony", "path": "ponyDiffusionV6XL.safetensors"},
        "InferenceConfiguration": {"model_id": "m", "preset_type": "quality",
                                   "parameters": {"steps": 30, "cfg_scale": 7.5, "sampler_name": "dpmpp_2m", "scheduler": "karras"}},
        "CivitAIModel": {"id": 7, "name": "M", "type": "LORA", "stats": {"downloadCount": 3}, "creator": {"username": "u"}},
        "GenerationBatch": {"project_id": PID, "results": [{"clip_id": PID, "url": "storyboard://media/x"}]},
        "User": {"username": "bob", "email": "bob@example.org", "hashed_password": "$2b$12$x"},
        "ComfyUIServer": {"name": "gpu", "url": "https://gpu.lan", "last_check": created},
    }[cls.__name__]  # fmt: skip
    return cls.model_validate({**data, "created_at": created, "updated_at": created})
