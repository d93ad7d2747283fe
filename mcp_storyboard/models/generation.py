"""Generation: the ``generation_batches`` job collection and the ``comfyui_servers`` that run them."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    JsonValue,
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
from mcp_storyboard.models.samplers import SamplerName, SchedulerName
from mcp_storyboard.models.values import (
    CollectionPatch,
    Fraction,
    Integer,
    JsonObject,
    Leased,
    MediaUrl,
    Message,
    ModelId,
    Name,
    Prompt,
    Real,
    SAFE_KEYS,
)

BatchStatus = Literal["queued", "processing", "completed", "failed", "cancelled", "partial"]
"""Life cycle of a batch; a finished batch is completed, partial (some items failed) or failed (all failed)."""
ServerStatus = Literal["online", "offline", "error"]
"""Health of a ComfyUI server at its last check."""
GenerationKind = Literal["image", "video"]
"""What an item generates; it decides the clip gallery (``generated_images`` / ``generated_videos``)."""
MAX_SEED = 2**63 - 1
"""MongoDB stores 64-bit signed integers; ComfyUI accepts seeds up to 2**64 - 1, so ours is the smaller range."""

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
    server_id: Uuid | None = None
    """The ComfyUI server that ran the item, when one did."""
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


class LoraSpec(StoryboardModel):
    """A LoRA to load into the built-in graph (one ``LoraLoader`` in the chain)."""

    name: str = Field(min_length=1, max_length=512)
    """The LoRA file name as the server lists it (``capabilities.loras``)."""
    strength: Real = Field(default=1.0, ge=-10.0, le=10.0)
    """Model and CLIP strength, -10 to 10."""


class GenerationParams(StoryboardModel):
    """Sampling parameters of one item, every one resolved at queue time (explicit, else the model's preset, else
    the family's default), so a worker never guesses and a retry repeats the same generation."""

    width: Integer = Field(ge=64, le=4096, multiple_of=8)
    """Image width in pixels, 64–4096, a multiple of 8."""
    height: Integer = Field(ge=64, le=4096, multiple_of=8)
    """Image height in pixels, 64–4096, a multiple of 8."""
    steps: Integer = Field(ge=1, le=200)
    """Sampling steps, 1–200."""
    cfg: Real = Field(ge=0.0, le=30.0)
    """Guidance scale, 0–30."""
    sampler_name: SamplerName
    """ComfyUI sampler name."""
    scheduler: SchedulerName
    """ComfyUI scheduler name."""
    seed: Integer = Field(ge=0, le=MAX_SEED)
    """Noise seed, 0 to 2**63-1."""
    denoise: Fraction = 1.0
    """Denoising strength, 0–1."""
    frames: Integer | None = Field(default=None, ge=1, le=300)
    """Video frames, 1–300 (video items only)."""
    fps: Real | None = Field(default=None, gt=0.0, le=120.0)
    """Video frames per second, up to 120 (video items only)."""


class WorkflowInput(StoryboardModel):
    """One value patched into a custom workflow: ``workflow[node]["inputs"][input] = value``."""

    node: str = Field(min_length=1, max_length=200)
    """The node's id in the graph, or its ``_meta.title`` (which must then be unique)."""
    input: str = Field(min_length=1, max_length=200)
    """The input's name, e.g. "text", "seed", "ckpt_name"."""
    value: Annotated[JsonValue, SAFE_KEYS]
    """The value to set."""


class GenerationItem(StoryboardModel):
    """One clip's generation inside a batch, fully resolved when the batch is queued.

    Either the built-in graph (``checkpoint`` → ``loras`` → text encoders → sampler → decode → save) or a custom
    API-format ``workflow`` with ``workflow_inputs`` patched into it.
    """

    clip_id: Uuid
    """The clip whose gallery receives the output."""
    kind: GenerationKind = "image"
    """image or video."""
    prompt: Prompt = Field(min_length=1)
    """The final positive prompt (composed with the character and style template)."""
    negative_prompt: Prompt = ""
    """The final negative prompt."""
    model_id: ModelId | None = None
    """The catalog model the checkpoint came from, when one was named."""
    checkpoint: str | None = Field(default=None, min_length=1, max_length=1024)
    """Checkpoint file name for the built-in graph (as the server lists it); null with a custom workflow."""
    loras: list[LoraSpec] = Field(default_factory=list, max_length=10)
    """LoRAs chained after the checkpoint, in order (at most 10)."""
    params: GenerationParams
    """Sampling parameters."""
    workflow: JsonObject | None = None
    """A custom API-format graph to run instead of the built-in one."""
    workflow_inputs: list[WorkflowInput] = Field(default_factory=list, max_length=100)
    """Values patched into ``workflow``, in order (at most 100)."""

    @model_validator(mode="after")
    def _graph_source(self) -> GenerationItem:
        if self.workflow is None and self.checkpoint is None:
            raise ValueError("an item needs a checkpoint (built-in graph) or a workflow")
        if self.workflow is None and self.workflow_inputs:
            raise ValueError("workflow_inputs need a workflow")
        return self


class RunningPrompt(StoryboardModel):
    """A prompt a worker has submitted to a server and not yet finished: what a cancel interrupts."""

    clip_id: Uuid
    """The item's clip."""
    server_id: Uuid
    """The server running it."""
    prompt_id: str = Field(min_length=1, max_length=200)
    """ComfyUI's prompt id."""
    submitted_at: UtcDatetime = Field(default_factory=utc_now)
    """When it was submitted."""


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
    items: list[GenerationItem] = Field(default_factory=list)
    """What to generate, one entry per clip (an addition to the schema; legacy batches have none)."""
    running: list[RunningPrompt] = Field(default_factory=list)
    """Prompts submitted and not yet finished (an addition to the schema)."""


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
    max_concurrent: Integer = Field(default=2, ge=1, le=64)
    """Prompts the dispatcher keeps on this server at once, 1–64 (an addition to the schema)."""
    api_key: str | None = Field(default=None, min_length=1, max_length=500, repr=False)
    """A credential sent as ``Authorization: Bearer`` (e.g. a RunPod proxy key). Stored, never returned by a tool,
    a resource or a log (views leave it out)."""


class ComfyUIServerPatch(CollectionPatch):
    """Fields of a server a caller may change; status, last_check and capabilities come from health checks."""

    name: Name = keep()
    """New name, 1–200 characters."""
    url: ServerUrl = keep()
    """New base URL (normalised)."""
    is_active: bool = keep()
    """Enable or disable the server."""
    max_concurrent: Integer = keep(ge=1, le=64)
    """Prompts at once on this server, 1–64."""
    api_key: str | None = Field(default=None, min_length=1, max_length=500, repr=False)
    """New credential; null removes it."""
