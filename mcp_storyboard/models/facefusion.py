"""FaceFusion: a character's history and gallery, and the ``facefusion_jobs`` / ``facefusion_presets`` collections.

The closed sets, per-operation parameters and preferred settings live in ``facefusion_params`` and are
re-exported here.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    Field,
    JsonValue,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from mcp_storyboard.models.common import (
    Document,
    StoryboardModel,
    UtcDatetime,
    Uuid,
    keep,
    new_id,
    utc_now,
)
from mcp_storyboard.models.facefusion_params import (
    PARAMETER_MODELS,
    AgeAdjustParameters,
    DetectParameters,
    EditParameters,
    EnhancementModel,
    EnhanceParameters,
    FaceDetectorModel,
    FaceDetectorSize,
    FaceEditorValues,
    FaceFusionParameters,
    FaceFusionPreferredSettings,
    FaceMaskType,
    FaceSelectorMode,
    FaceSelectorOrder,
    MaskParameters,
    OperationType,
    PresetOperationType,
    SwapParameters,
    SwapperModel,
    describe_errors,
    validate_parameters,
)
from mcp_storyboard.models.values import (
    NOT_BOOL,
    CollectionPatch,
    Description,
    Integer,
    JsonObject,
    Leased,
    MediaUrl,
    Message,
    Name,
    Real,
)

__all__ = [
    "PARAMETER_MODELS", "AgeAdjustParameters", "DetectParameters", "EditParameters", "EnhanceParameters",
    "EnhancementModel", "FaceDetectorModel", "FaceDetectorSize", "FaceEditorValues", "FaceFusionHistoryEntry",
    "FaceFusionJob", "FaceFusionJobPatch", "FaceFusionOutputGallery", "FaceFusionParameters",
    "FaceFusionPreferredSettings", "FaceFusionPreset", "FaceFusionPresetPatch", "FaceMaskType", "FaceSelectorMode",
    "FaceSelectorOrder", "JobStatus", "JobType", "MaskParameters", "OperationType", "PresetOperationType",
    "PresetVisibility", "SwapParameters", "SwapperModel", "describe_errors", "validate_parameters",
]  # fmt: skip

JobType = Literal["enhance", "age_adjust", "swap", "edit", "mask", "detect", "batch"]
"""What a FaceFusion job does (the schema's four plus "edit", "mask" and "detect"): one operation, or a batch."""
JobStatus = Literal["queued", "processing", "completed", "failed", "cancelled"]
"""Life cycle of a queued job."""
PresetVisibility = Literal["public", "private", "all"]
"""Which presets a list shows: public ones, the user's own private ones, or every one they may see."""

Age = Annotated[int, Field(ge=0, le=100), NOT_BOOL]
"""An age, 0–100."""


def _empty_as_none(value: Any) -> Any:
    # The original app recorded failed operations with output "".
    return None if value == "" else value


class FaceFusionHistoryEntry(StoryboardModel):
    """One FaceFusion operation on a character's image, successful or not (``facefusion_processing_history``).

    ``parameters`` is a record of what was sent and is not re-validated on read (old entries used other keys);
    new entries are built from validated parameters (``validate_parameters``).
    """

    id: Uuid = Field(default_factory=new_id)
    """Entry id."""
    operation_type: OperationType
    """The operation: enhance, age_adjust, swap, edit, mask or detect."""
    media_type: Literal["image", "video"] = "image"
    """Addition: what was processed; the original app's "video_<type>" operations read as <type> + video."""
    input_image_url: MediaUrl
    """The image (or video) processed."""
    output_image_url: Annotated[MediaUrl | None, BeforeValidator(_empty_as_none)] = None
    """The result; null when the operation failed."""
    parameters: JsonObject = Field(default_factory=dict)
    """Operation-specific parameters as sent."""
    success: bool
    """Whether the operation succeeded."""
    error_message: Message | None = None
    """Why it failed."""
    processing_time_seconds: Real = Field(default=0.0, ge=0.0)
    """How long it took, in seconds (≥0)."""
    created_at: UtcDatetime = Field(default_factory=utc_now)
    """When it ran (UTC)."""

    @model_validator(mode="before")
    @classmethod
    def _split_video_operation(cls, data: Any) -> Any:
        # The original app recorded video operations as "video_<type>".
        if isinstance(data, dict):
            operation = data.get("operation_type")
            if isinstance(operation, str) and operation.startswith("video_") and "media_type" not in data:
                return {**data, "operation_type": operation.removeprefix("video_"), "media_type": "video"}
        return data


class FaceFusionOutputGallery(StoryboardModel):
    """A character's FaceFusion results by category (``facefusion_output_gallery``).

    ``age_variants`` maps an age (0–100) to one image. BSON keys must be strings, so keys are accepted as ints or
    digit strings ("25") and always dumped as strings (in both python and json mode): ``{"25": url}``. A single
    variant is set with ``$set`` on ``facefusion_output_gallery.age_variants.25``.
    """

    enhanced_faces: list[MediaUrl] = Field(default_factory=list)
    """Enhanced face images."""
    age_variants: dict[Age, MediaUrl] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"pattern": "^(100|[1-9]?[0-9])$"}}
    )
    """Age (0–100, stored as a string key) → image of the face at that age; one image per age."""
    swapped_faces: list[MediaUrl] = Field(default_factory=list)
    """Face-swapped images."""
    edited_expressions: list[MediaUrl] = Field(default_factory=list)
    """Expression- or pose-edited images."""
    custom_outputs: list[MediaUrl] = Field(default_factory=list)
    """Other outputs."""

    @field_serializer("age_variants")
    def _string_keys(self, variants: dict[int, str]) -> dict[str, str]:
        return {str(age): url for age, url in sorted(variants.items())}


class FaceFusionJob(Document, Leased):
    """A queued FaceFusion job (``facefusion_jobs``); workers claim it in (status, −priority, created_at) order.

    Additions to the schema: ``attempts``, ``max_attempts``, ``lease_owner``, ``lease_expires_at``.
    """

    collection: ClassVar[str] = "facefusion_jobs"

    character_id: Uuid | None = None
    """The character the job works for, if any."""
    project_id: Uuid
    """The project the job belongs to."""
    job_type: JobType
    """enhance, age_adjust, swap, edit, mask, detect (one operation) or batch (several)."""
    status: JobStatus = "queued"
    """queued → processing → completed | failed; queued or processing → cancelled."""
    priority: Integer = Field(default=0, ge=-100, le=100)
    """Higher runs first, −100…100; ties run oldest first."""
    input_data: JsonObject = Field(default_factory=dict)
    """Job-specific input (images, operations, parameters)."""
    output_data: JsonObject | None = None
    """Results, once finished."""
    error_message: Message | None = None
    """Why the job failed."""
    progress: Real = Field(default=0.0, ge=0.0, le=100.0)
    """Progress in percent, 0.0–100.0."""
    started_at: UtcDatetime | None = None
    """When processing (last) started."""
    completed_at: UtcDatetime | None = None
    """When it completed, failed or was cancelled."""


class FaceFusionJobPatch(CollectionPatch):
    """Fields of a job a caller may change; status, progress and leases move only through queue operations."""

    priority: Integer = keep(ge=-100, le=100)
    """New priority, −100…100."""
    max_attempts: Integer = keep(ge=1, le=10)
    """New attempt limit, 1–10."""


def _checked_parameters(parameters: dict[str, JsonValue], operation_type: str | None) -> dict[str, JsonValue]:
    if operation_type is None:
        return parameters
    try:
        model = validate_parameters(operation_type, parameters)
    except ValidationError as exc:
        raise PydanticCustomError(
            "invalid_parameters",
            "invalid {operation_type} parameters: {details}",
            {"operation_type": operation_type, "details": describe_errors(exc)},
        ) from None
    return model.model_dump(mode="json", exclude_none=True)


class FaceFusionPreset(Document):
    """A saved set of FaceFusion parameters for one operation type (``facefusion_presets``).

    ``parameters`` is validated against ``operation_type`` and stored normalised (defaults filled in, unset
    optional values left out).
    """

    collection: ClassVar[str] = "facefusion_presets"

    name: Name
    """Preset name, 1–200 characters."""
    description: Description | None = None
    """What the preset is for, at most 2000 characters."""
    operation_type: PresetOperationType
    """enhance, age_adjust, swap or edit."""
    parameters: JsonObject = Field(default_factory=dict, validate_default=True)
    """The operation's parameters (see ``EnhanceParameters``, ``AgeAdjustParameters``, ``SwapParameters``,
    ``EditParameters``)."""
    user_id: Uuid | None = None
    """The user who created it; null for the local user."""
    is_public: bool = False
    """Whether other users see it."""
    use_count: Integer = Field(default=0, ge=0)
    """Times it has been applied (≥0)."""

    @field_validator("parameters")
    @classmethod
    def _parameters_fit_operation(cls, value: dict[str, JsonValue], info: ValidationInfo) -> dict[str, JsonValue]:
        return _checked_parameters(value, info.data.get("operation_type"))


class FaceFusionPresetPatch(CollectionPatch):
    """Fields of a preset a caller may change.

    ``parameters`` is checked here only when ``operation_type`` comes with it; otherwise the service checks it
    against the stored operation type with ``validate_parameters``.
    """

    name: Name = keep()
    """New name, 1–200 characters."""
    description: Description | None = None
    """New description; null clears it."""
    operation_type: PresetOperationType = keep()
    """New operation type (send the matching ``parameters`` with it)."""
    parameters: JsonObject = keep()
    """New parameters (replace the stored ones)."""
    is_public: bool = keep()
    """New visibility."""

    @field_validator("parameters")
    @classmethod
    def _parameters_fit_operation(cls, value: dict[str, JsonValue], info: ValidationInfo) -> dict[str, JsonValue]:
        return _checked_parameters(value, info.data.get("operation_type"))
