"""What the FaceFusion service returns: jobs as callers read them, history pages, a character's face data.

Job results are read from ``output_data`` (``FaceFusionJobOutput``); produced images are ``storyboard://media/<id>``
URIs, never inline bytes.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import JsonValue, WithJsonSchema
from pydantic import ValidationError as PydanticValidationError

from mcp_storyboard.models.common import StoryboardModel, UtcDatetime
from mcp_storyboard.models.facefusion import (
    FaceFusionHistoryEntry,
    FaceFusionJob,
    FaceFusionOutputGallery,
    FaceFusionPreferredSettings,
    JobStatus,
    JobType,
)
from mcp_storyboard.models.facefusion_jobs import (
    FaceFusionJobInput,
    FaceFusionJobOutput,
    OperationResult,
)
from mcp_storyboard.models.media import MEDIA_URI_PREFIX

FINISHED: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
"""Statuses a job leaves only through retry."""


FACEFUSION_JOBS_URI = "storyboard://facefusion-jobs"


def job_uri(job_id: str) -> str:
    return f"{FACEFUSION_JOBS_URI}/{job_id}"


def character_facefusion_uri(character_id: str) -> str:
    return f"storyboard://characters/{character_id}/facefusion"


def preset_uri(preset_id: str) -> str:
    return f"storyboard://facefusion-presets/{preset_id}"


class QueuedJob(StoryboardModel):
    """A job just queued (or put back in the queue)."""

    id: str
    uri: str
    status: JobStatus
    job_type: JobType
    position: int
    """Queued jobs a worker takes before this one."""
    operations: list[dict[str, JsonValue]]
    """The operations as stored, parameters resolved (argument → preset → character → defaults)."""


class FaceFusionJobView(StoryboardModel):
    """A job: its state, and per-operation results once it finished."""

    id: str
    uri: str
    status: JobStatus
    job_type: JobType
    project_id: str
    character_id: str | None
    priority: int
    progress: float
    attempts: int
    max_attempts: int
    position: int | None = None
    """Queued jobs ahead of it (queued jobs read one by one only)."""
    operations: list[dict[str, JsonValue]]
    results: Annotated[
        list[OperationResult] | None,
        WithJsonSchema({"anyOf": [{"type": "array", "items": {"type": "object", "description": "success, "
                        "output_url (storyboard://media/...), error, processing_time_seconds, faces"}},
                                  {"type": "null"}]}),
    ] = None
    """One per operation once finished; output_url is a storyboard://media URI."""
    error_message: str | None
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    completed_at: UtcDatetime | None

    @classmethod
    def of(cls, job: FaceFusionJob, position: int | None = None) -> FaceFusionJobView:
        return cls(
            id=job.id, uri=job_uri(job.id), status=job.status, job_type=job.job_type, project_id=job.project_id,
            character_id=job.character_id, priority=job.priority, progress=job.progress, attempts=job.attempts,
            max_attempts=job.max_attempts, position=position, operations=stored_operations(job),
            results=_results(job), error_message=job.error_message, created_at=job.created_at,
            started_at=job.started_at, completed_at=job.completed_at,
        )  # fmt: skip

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def resource_links(self) -> list[tuple[str, str]]:
        """``(uri, name)`` of each image the job produced (tools return them as resource links)."""
        return [(r.output_url, f"{r.operation_type} output {r.operation_index}") for r in self.results or []
                if r.success and r.output_url and r.output_url.startswith(MEDIA_URI_PREFIX)]


def stored_operations(job: FaceFusionJob) -> list[dict[str, JsonValue]]:
    raw: Any = job.input_data.get("operations")
    return [dict(op) for op in raw] if isinstance(raw, list) else []


def _results(job: FaceFusionJob) -> list[OperationResult] | None:
    if job.output_data is None:
        return None
    try:
        return FaceFusionJobOutput.model_validate(job.output_data).results
    except PydanticValidationError:  # written by another version: show the job rather than fail on it
        return None


def job_input(job: FaceFusionJob) -> FaceFusionJobInput:
    return FaceFusionJobInput.model_validate(job.input_data)


class JobPage(StoryboardModel):
    """One page of jobs, newest first; pass ``next_cursor`` back for the next page."""

    items: list[FaceFusionJobView]
    next_cursor: str | None = None


class WaitResult(StoryboardModel):
    """A job after waiting for it."""

    finished: bool
    """Whether it completed, failed or was cancelled before the timeout."""
    job: FaceFusionJobView

    def resource_links(self) -> list[tuple[str, str]]:
        return self.job.resource_links()


class HistoryPage(StoryboardModel):
    """Entries of a character's FaceFusion history, newest first."""

    items: list[FaceFusionHistoryEntry]
    total: int
    """Entries in the whole history."""
    next_cursor: str | None = None


class FacePreferences(StoryboardModel):
    """A character's preferred FaceFusion settings (the defaults when none were chosen)."""

    character_id: str
    customised: bool
    """False: none were chosen and these are the defaults."""
    settings: Annotated[
        FaceFusionPreferredSettings,
        WithJsonSchema({"type": "object", "description": "Setting → value (FaceFusion parameters and face_age)."}),
    ]


class CharacterFaceData(StoryboardModel):
    """A character's FaceFusion work: preferences, gallery and the newest history entries."""

    character_id: str
    preferences: FacePreferences
    gallery: FaceFusionOutputGallery
    history_total: int
    recent_history: list[FaceFusionHistoryEntry]
