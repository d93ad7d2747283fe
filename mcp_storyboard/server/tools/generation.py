"""Generation tools: queue images or videos for clips (one clip, or many of a project), then read, list, cancel,
retry and wait for the batches. Queueing returns at once; workers run the batches on the ComfyUI servers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field, WithJsonSchema

from mcp_storyboard.models.catalog import PresetType
from mcp_storyboard.models.common import Uuid
from mcp_storyboard.models.generation import (
    BatchStatus,
    GenerationBatch,
    GenerationKind,
    LoraSpec,
    WorkflowInput,
)
from mcp_storyboard.models.values import JsonObject, ModelId, PageSize, Prompt
from mcp_storyboard.server.client_log import report_progress
from mcp_storyboard.server.completions import MAX_COMPLETIONS, CompletionRegistry
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.tools._args import WaitTimeout
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.services.generation.requests import (
    MAX_BATCH_CLIPS,
    ClipRequest,
    GenerationSettings,
    ParamOverrides,
)
from mcp_storyboard.services.generation.views import (
    GENERATION_BATCHES_URI,
    BatchPage,
    BatchView,
    CancelledBatch,
    QueuedBatch,
    WaitResult,
)

TOOLSET: Toolset = "generation"
tool = ToolRegistry(TOOLSET)
complete = CompletionRegistry()

BatchId = Annotated[Uuid, Field(description="A generation batch id.")]
Cursor = Annotated[str | None, Field(max_length=2000, description="next_cursor of the previous page.")]
Kind = Annotated[GenerationKind, Field(description="image or video.")]
ModelArg = Annotated[ModelId | None, Field(description="A catalog checkpoint (default: the clip's preset's model).")]
Checkpoint = Annotated[str | None, Field(min_length=1, max_length=1024, description="Checkpoint file instead.")]
PresetArg = Annotated[PresetType | None, Field(description="The model's preset (default quality).")]
Params = Annotated[ParamOverrides | None, Field(description="Overrides of the preset; seed random if unset.")]
Loras = Annotated[list[LoraSpec] | None, Field(max_length=10), WithJsonSchema({
    "type": "array", "maxItems": 10, "items": {"type": "object", "required": ["name"]},
    "description": "LoRAs: {name, strength -10..10 (1)}; the character's is added."})]
Negative = Annotated[Prompt | None, Field(description="Negative prompt (merged with the style template's).")]
ServerArg = Annotated[Uuid | None, Field(description="Pin to this ComfyUI server.")]
Workflow = Annotated[JsonObject | None, Field(description="Custom API-format graph instead of the built-in one.")]
WorkflowInputs = Annotated[list[WorkflowInput] | None, Field(max_length=100), WithJsonSchema({
    "type": "array", "maxItems": 100, "items": {"type": "object", "required": ["node", "input", "value"]},
    "description": "Patches of workflow: {node (id or unique title), input, value}."})]


def _settings(**given: Any) -> GenerationSettings:
    return GenerationSettings.model_validate({k: v for k, v in given.items() if v is not None})


@tool(title="Generate a clip's image or video", operation="create")
async def generate_clip_media(
    clip_id: Annotated[Uuid, Field(description="The clip whose gallery gets the result.")],
    ctx: Context,
    kind: Kind = "image",
    prompt: Annotated[Prompt | None, Field(description="As written (default: the clip's prompt composed with its "
                                                       "character and style).")] = None,
    negative_prompt: Negative = None,
    model_id: ModelArg = None,
    checkpoint: Checkpoint = None,
    preset: PresetArg = None,
    params: Params = None,
    loras: Loras = None,
    server_id: ServerArg = None,
    workflow: Workflow = None,
    workflow_inputs: WorkflowInputs = None,
) -> QueuedBatch:
    """Queue one clip's generation as a batch; returns at once. Unset values come from the clip, then the
    model's preset and family defaults."""
    settings = _settings(kind=kind, model_id=model_id, checkpoint=checkpoint, preset=preset, params=params,
                         loras=loras, server_id=server_id, workflow=workflow, workflow_inputs=workflow_inputs)
    request = ClipRequest.model_validate({k: v for k, v in (("clip_id", clip_id), ("prompt", prompt),
                                                            ("negative_prompt", negative_prompt)) if v is not None})
    queued = await get_services(ctx).generation.generate_clip(request, settings)
    await notify_changed(ctx, [queued.uri])
    return queued


@tool(title="Generate many clips", operation="create")
async def generate_batch(
    project_id: Annotated[Uuid, Field(description="The project of every clip.")],
    clips: Annotated[list[ClipRequest], Field(min_length=1, max_length=MAX_BATCH_CLIPS,
                                              description="Clips with optional prompt, negative_prompt, seed.")],
    ctx: Context,
    kind: Kind = "image",
    negative_prompt: Negative = None,
    model_id: ModelArg = None,
    checkpoint: Checkpoint = None,
    preset: PresetArg = None,
    params: Params = None,
    loras: Loras = None,
    server_id: ServerArg = None,
    workflow: Workflow = None,
    workflow_inputs: WorkflowInputs = None,
) -> QueuedBatch:
    """Queue one batch generating each clip (as generate_clip_media, sharing these settings); returns at once."""
    settings = _settings(kind=kind, negative_prompt=negative_prompt, model_id=model_id, checkpoint=checkpoint,
                         preset=preset, params=params, loras=loras, server_id=server_id, workflow=workflow,
                         workflow_inputs=workflow_inputs)
    queued = await get_services(ctx).generation.generate_batch(project_id, clips, settings)
    await notify_changed(ctx, [queued.uri])
    return queued


@tool(title="Get a generation batch", operation="read")
async def get_generation_batch(batch_id: BatchId, ctx: Context) -> BatchView:
    """A batch's status, counters and each clip's status, resolved prompt and parameters, result or error."""
    return await get_services(ctx).generation.view(batch_id)


@tool(title="List generation batches", operation="read")
async def list_generation_batches(
    project_id: Annotated[Uuid, Field(description="The project.")],
    ctx: Context,
    status: BatchStatus | None = None,
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Cursor = None,
) -> BatchPage:
    """A project's batches, newest first, paginated."""
    return await get_services(ctx).generation.list_views(project_id, status=status, limit=limit, cursor=cursor)


@tool(title="Cancel a generation batch", operation="update", idempotent=False)
async def cancel_generation_batch(batch_id: BatchId, ctx: Context) -> CancelledBatch:
    """Cancel a queued or processing batch; its running ComfyUI prompts are interrupted."""
    batch = await get_services(ctx).generation.cancel(batch_id)
    await notify_changed(ctx, [batch.uri])
    return batch


@tool(title="Retry a generation batch", operation="create", idempotent=False)
async def retry_generation_batch(batch_id: BatchId, ctx: Context) -> QueuedBatch:
    """Queue a new batch, linked to this one, of a finished batch's clips that did not succeed, with the same
    prompts, parameters and seeds."""
    queued = await get_services(ctx).generation.retry(batch_id)
    await notify_changed(ctx, [queued.uri])
    return queued


@tool(title="Wait for a generation batch", operation="read")
async def wait_for_generation_batch(
    batch_id: BatchId,
    ctx: Context,
    timeout: WaitTimeout = 60,
) -> WaitResult:
    """Wait until a batch finishes or the timeout passes, reporting progress; returns the batch and whether it
    finished."""

    async def progress(batch: GenerationBatch) -> None:
        done = batch.completed_jobs + batch.failed_jobs
        await report_progress(ctx, done, float(batch.total_jobs or 1),
                              f"generation batch {batch.id}: {batch.status}, {done}/{batch.total_jobs} clips done")

    return await get_services(ctx).generation.wait(batch_id, float(timeout), progress)


@complete(argument="batch_id", prompt="*")
@complete(argument="batch_id", template=f"{GENERATION_BATCHES_URI}/{{batch_id}}")
async def complete_batch_id(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    """Batch ids starting with the text."""
    return await services.generation.complete_ids(value, limit=MAX_COMPLETIONS + 1)
