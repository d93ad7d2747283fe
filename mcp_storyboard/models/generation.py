"""Generation: the ``generation_batches`` job collection and the ``comfyui_servers`` that run them."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    model_validator,
)

from mcp_storyboard.models.common import (
    Document,
    StoryboardModel,
    UtcDatetime,
    Uuid,
    keep,
    utc_now,
)
from mcp_storyboard.models.values import (
    CollectionPatch,
    Integer,
    JsonObject,
    Leased,
    MediaUrl,
    Message,
    Name,
)

BatchStatus = Literal["queued", "processing", "completed", "failed", "cancelled", "partial"]
"""Life cycle of a batch; a finished batch is completed, partial (some items failed) or failed (all failed)."""
ServerStatus = Literal["online", "offline", "error"]
"""Health of a ComfyUI server at its last check."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_server_url(raw: str) -> str:
    """The canonical form of a server URL, which is its unique key.

    Scheme and host are lower-cased, a default port (80/443) and trailing ``/`` are dropped:
    ``"HTTP://Box.lan:80/comfy/"`` → ``"http://box.lan/comfy"``. Only http(s) is accepted, and a URL with
    credentials, a query or a fragment is refused.
    """
    value = raw.strip()
    if any(c.isspace() for c in value):
        raise ValueError("a server URL must not contain whitespace")
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("a server URL must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a server URL must not contain credentials")
    if parts.query or parts.fragment:
        raise ValueError("a server URL must not contain a query or fragment")
    host = parts.hostname
    if not host:
        raise ValueError("a server URL must name a host")
    port = parts.port  # raises ValueError for a port out of range
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


ServerUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(normalize_server_url)]
"""A ComfyUI server base URL, normalised by ``normalize_server_url``."""


class BatchResult(StoryboardModel):
    """The outcome of one item of a batch.

    The schema's ``results`` is an array of URLs; a legacy plain-URL entry is read as a successful result.
    """

    clip_id: Uuid | None = None
    """The clip the item generated for."""
    success: bool = True
    """Whether the item succeeded."""
    url: MediaUrl | None = None
    """The generated image or video."""
    media_id: Uuid | None = None
    """The file's id in the media store."""
    gallery_entry_id: Uuid | None = None
    """The entry added to the clip's gallery."""
    error: Message | None = None
    """Why the item failed."""
    created_at: UtcDatetime | None = Field(default_factory=utc_now)
    """When the item finished; null for legacy entries."""

    @model_validator(mode="before")
    @classmethod
    def _read_legacy(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"url": data, "success": True, "created_at": None}
        return data


class GenerationBatch(Document, Leased):
    """A batch of generations (``generation_batches``), queued and claimed by workers.

    Additions to the schema: ``attempts``, ``max_attempts``, ``lease_owner``, ``lease_expires_at``, and
    ``results`` entries as objects (``BatchResult``). ``comfyui_server_id`` is null until a server is pinned
    or claims the batch. Counters move by atomic ``$inc``; the model does not cross-check them, so a read
    never fails on a counter.
    """

    collection: ClassVar[str] = "generation_batches"

    project_id: Uuid
    """The project the batch belongs to."""
    clip_id: Uuid | None = None
    """The clip, for a single-clip batch."""
    status: BatchStatus = "queued"
    """queued, processing, completed, failed, cancelled or partial."""
    total_jobs: Integer = Field(default=0, ge=0)
    """Items in the batch (≥0)."""
    completed_jobs: Integer = Field(default=0, ge=0)
    """Items that succeeded (≥0)."""
    failed_jobs: Integer = Field(default=0, ge=0)
    """Items that failed (≥0)."""
    comfyui_server_id: Uuid | None = None
    """The server processing (or pinned to process) the batch."""
    prompt_data: JsonObject = Field(default_factory=dict)
    """Generation parameters."""
    results: list[BatchResult] = Field(default_factory=list)
    """Per-item outcomes."""
    error_message: Message | None = None
    """Why the batch failed."""


class GenerationBatchPatch(CollectionPatch):
    """Fields of a batch a caller may change; status, counters, results and leases move through queue operations."""

    comfyui_server_id: Uuid | None = None
    """Pin the batch to a server; null lets any server take it."""
    max_attempts: Integer = keep(ge=1, le=10)
    """New attempt limit, 1–10."""


class ComfyUIServer(Document):
    """A ComfyUI server (``comfyui_servers``); ``url`` is unique in its normalised form."""

    collection: ClassVar[str] = "comfyui_servers"

    name: Name
    """Server name, 1–200 characters."""
    url: ServerUrl
    """Base URL, normalised: http(s) only, lower-case host, no trailing "/", no default port."""
    is_active: bool = True
    """Whether jobs may be sent to it."""
    status: ServerStatus = "offline"
    """online, offline or error, as of ``last_check``."""
    last_check: UtcDatetime | None = None
    """When health was last checked; null before the first check."""
    capabilities: JsonObject = Field(default_factory=dict)
    """What the server offers (checkpoints, LoRAs, samplers, schedulers, devices), as of the last successful check."""
    last_error: Message | None = None
    """Why the last check found the server offline or in error (an addition to the schema); null when online."""


class ComfyUIServerPatch(CollectionPatch):
    """Fields of a server a caller may change; status, last_check and capabilities come from health checks."""

    name: Name = keep()
    """New name, 1–200 characters."""
    url: ServerUrl = keep()
    """New base URL (normalised)."""
    is_active: bool = keep()
    """Enable or disable the server."""
