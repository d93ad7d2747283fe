"""What a FaceFusion job carries: its operations (``input_data``) and their results (``output_data``).

The contract between the tools that queue jobs (``services/facefusion``), the workers that run them and the
runner that drives the FaceFusion CLI (``integrations/facefusion``). Parameters are stored in the schema's units
(blends 0.0–1.0, editor values −100…100, an absolute ``target_age``); the runner converts them to FaceFusion's.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mcp_storyboard.models.common import StoryboardModel, Uuid
from mcp_storyboard.models.facefusion_params import OperationType
from mcp_storyboard.models.values import NOT_BOOL, Integer, JsonObject, MediaUrl, Message, Real

MAX_BATCH_OPERATIONS = 20
"""Operations one batch job may hold."""

FaceAge = Annotated[int, Field(ge=0, le=100), NOT_BOOL]


class FaceFusionOperation(StoryboardModel):
    """One operation of a job, with its parameters resolved (argument → preset → character → defaults)."""

    operation_type: OperationType
    """enhance, age_adjust, swap, edit, mask or detect."""
    input_image_url: MediaUrl
    """The image worked on: ``storyboard://media/<id>`` (inputs are imported when the job is queued) or http(s)."""
    parameters: JsonObject = Field(default_factory=dict)
    """``validate_parameters(operation_type, …)`` dumped with ``mode="json", exclude_none=True``. A swap's
    ``source_face_url`` / ``target_image_url`` are media URLs like ``input_image_url``."""
    face_age: FaceAge | None = None
    """age_adjust only: the face's current age, from which FaceFusion's relative direction is computed."""


class FaceFusionJobInput(StoryboardModel):
    """A job's ``input_data``."""

    operations: list[FaceFusionOperation] = Field(min_length=1, max_length=MAX_BATCH_OPERATIONS)
    """One operation, or a batch's operations in the order they run."""
    preset_id: Uuid | None = None
    """The preset applied, if any (its ``use_count`` was incremented when the job was queued)."""


class OperationResult(StoryboardModel):
    """The outcome of one operation."""

    operation_index: Integer
    """Position in ``operations``."""
    operation_type: OperationType
    """The operation."""
    success: bool
    """Whether it produced its output."""
    output_media_id: str | None = None
    """The stored result, when it succeeded."""
    output_url: MediaUrl | None = None
    """``storyboard://media/<output_media_id>``."""
    error: Message | None = None
    """Why it failed (FaceFusion's stderr tail for a failed run)."""
    processing_time_seconds: Real = 0.0
    """Wall time of the run."""
    faces: list[JsonObject] | None = None
    """detect only, when the runner can tell: one object per face (``bounding_box`` [x1, y1, x2, y2], ``score``)."""


class FaceFusionJobOutput(StoryboardModel):
    """A finished job's ``output_data``: one result per operation, in order."""

    results: list[OperationResult] = Field(default_factory=list)
    completed_operations: Integer = 0
    failed_operations: Integer = 0
