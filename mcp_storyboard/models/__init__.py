"""Pydantic documents of the 13 collections, their patches, and the closed sets they use."""

from __future__ import annotations

from mcp_storyboard.models.catalog import (
    CivitAIModel,
    CivitAIModelPatch,
    DatabaseModel,
    DatabaseModelPatch,
    InferenceConfiguration,
    InferenceConfigurationPatch,
    InferenceParameters,
    ModelType,
    PresetType,
    normalize_base_model,
)
from mcp_storyboard.models.characters import Character, CharacterPatch
from mcp_storyboard.models.clips import Clip, ClipPatch, ClipType, GeneratedMedia
from mcp_storyboard.models.common import (
    Document,
    Page,
    Patch,
    StoryboardModel,
    UtcDatetime,
    Uuid,
)
from mcp_storyboard.models.facefusion import (
    EnhancementModel,
    FaceDetectorModel,
    FaceDetectorSize,
    FaceFusionHistoryEntry,
    FaceFusionJob,
    FaceFusionJobPatch,
    FaceFusionOutputGallery,
    FaceFusionPreferredSettings,
    FaceFusionPreset,
    FaceFusionPresetPatch,
    FaceMaskType,
    FaceSelectorMode,
    FaceSelectorOrder,
    JobStatus,
    JobType,
    OperationType,
    PresetOperationType,
    SwapperModel,
    validate_parameters,
)
from mcp_storyboard.models.generation import (
    BatchResult,
    BatchStatus,
    ComfyUIServer,
    ComfyUIServerPatch,
    GenerationBatch,
    GenerationBatchPatch,
    ServerStatus,
    normalize_server_url,
)
from mcp_storyboard.models.projects import Project, ProjectPatch
from mcp_storyboard.models.scenes import Scene, ScenePatch
from mcp_storyboard.models.style_templates import StyleTemplate, StyleTemplatePatch
from mcp_storyboard.models.users import User, UserPatch
from mcp_storyboard.models.values import Timestamped

DOCUMENT_CLASSES: tuple[type[StoryboardModel], ...] = (
    Project, Scene, Clip, Character, StyleTemplate, FaceFusionJob, FaceFusionPreset, DatabaseModel,
    InferenceConfiguration, CivitAIModel, GenerationBatch, User, ComfyUIServer,
)  # fmt: skip
"""The stored document class of each of the 13 collections, in DATABASE_SCHEMA.md order (``cls.collection``)."""

__all__ = [
    "DOCUMENT_CLASSES", "BatchResult", "BatchStatus", "Character", "CharacterPatch", "CivitAIModel",
    "CivitAIModelPatch", "Clip", "ClipPatch", "ClipType", "ComfyUIServer", "ComfyUIServerPatch", "DatabaseModel",
    "DatabaseModelPatch", "Document", "EnhancementModel", "FaceDetectorModel", "FaceDetectorSize",
    "FaceFusionHistoryEntry", "FaceFusionJob", "FaceFusionJobPatch", "FaceFusionOutputGallery",
    "FaceFusionPreferredSettings", "FaceFusionPreset", "FaceFusionPresetPatch", "FaceMaskType", "FaceSelectorMode",
    "FaceSelectorOrder", "GeneratedMedia", "GenerationBatch", "GenerationBatchPatch", "InferenceConfiguration",
    "InferenceConfigurationPatch", "InferenceParameters", "JobStatus", "JobType", "ModelType", "OperationType",
    "Page", "Patch", "PresetOperationType", "PresetType", "Project", "ProjectPatch", "Scene", "ScenePatch",
    "ServerStatus", "StoryboardModel", "StyleTemplate", "StyleTemplatePatch", "SwapperModel", "Timestamped", "User",
    "UserPatch", "UtcDatetime", "Uuid", "normalize_base_model", "normalize_server_url", "validate_parameters",
]  # fmt: skip
