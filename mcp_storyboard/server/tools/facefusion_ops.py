"""FaceFusion operation tools: each queues one job and returns it at once (id, status, queue position).

Parameters left out come from the preset, then the character's preferred settings, then the defaults.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.facefusion import (
    EnhancementModel,
    FaceDetectorModel,
    FaceDetectorSize,
    FaceMaskType,
    FaceSelectorMode,
    SwapperModel,
)
from mcp_storyboard.models.facefusion_jobs import MAX_BATCH_OPERATIONS
from mcp_storyboard.models.facefusion_params import (
    EditorKey,
    EditorValue,
    FaceMaskArea,
    FaceMaskRegion,
)
from mcp_storyboard.models.values import NOT_BOOL, Fraction
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._args import CharacterId
from mcp_storyboard.server.tools._facefusion_args import (
    FaceAgeArg,
    ImageArg,
    OptionalCharacter,
    PresetArg,
    Priority,
    ReferenceImage,
)
from mcp_storyboard.services.facefusion.inputs import OperationRequest
from mcp_storyboard.services.facefusion.views import QueuedJob, preset_uri

TOOLSET: Toolset = "facefusion"
tool = ToolRegistry(TOOLSET)

Blend = Annotated[Fraction | None, Field(description="Blend 0.0–1.0.")]


async def _queue(
    ctx: Context, request: OperationRequest, character_id: str | None, preset_id: str | None, priority: int
) -> QueuedJob:
    queued = await get_services(ctx).facefusion.queue(
        [request], character_id=character_id, preset_id=preset_id, priority=priority
    )
    await notify_changed(ctx, [queued.uri, *([preset_uri(preset_id)] if preset_id else [])])
    return queued


def _given(**parameters: Any) -> dict[str, Any]:
    return {k: v for k, v in parameters.items() if v is not None}


@tool(title="Enhance a face", operation="create")
async def enhance_face(
    ctx: Context,
    image: ImageArg = None,
    reference_image: ReferenceImage = None,
    character_id: OptionalCharacter = None,
    preset_id: PresetArg = None,
    priority: Priority = 0,
    enhancement_model: EnhancementModel | None = None,
    face_enhancer_blend: Blend = None,
) -> QueuedJob:
    """Queue a face enhancement (restoration) of an image."""
    request = OperationRequest(operation_type="enhance", image=image, reference_image=reference_image,
                               parameters=_given(enhancement_model=enhancement_model,
                                                 face_enhancer_blend=face_enhancer_blend))
    return await _queue(ctx, request, character_id, preset_id, priority)


@tool(title="Change a face's age", operation="create")
async def adjust_face_age(
    target_age: Annotated[int, Field(ge=0, le=100, description="The age to show, 0–100."), NOT_BOOL],
    ctx: Context,
    image: ImageArg = None,
    reference_image: ReferenceImage = None,
    character_id: OptionalCharacter = None,
    preset_id: PresetArg = None,
    priority: Priority = 0,
    current_age: FaceAgeArg = None,
    age_adjustment_blend: Blend = None,
) -> QueuedJob:
    """Queue an age change of a face to target_age (relative to its current age)."""
    request = OperationRequest(operation_type="age_adjust", image=image, reference_image=reference_image,
                               current_age=current_age,
                               parameters=_given(target_age=target_age, age_adjustment_blend=age_adjustment_blend))
    return await _queue(ctx, request, character_id, preset_id, priority)


@tool(title="Swap a face", operation="create")
async def swap_face(
    source_face: Annotated[str, Field(min_length=1, max_length=2048, description="Image with the face to put in "
                                      "(same forms as image).")],
    ctx: Context,
    image: ImageArg = None,
    reference_image: ReferenceImage = None,
    character_id: OptionalCharacter = None,
    preset_id: PresetArg = None,
    priority: Priority = 0,
    face_swapper_model: SwapperModel | None = None,
) -> QueuedJob:
    """Queue a face swap: the face of source_face replaces the face in image."""
    request = OperationRequest(operation_type="swap", image=image, reference_image=reference_image,
                               source_face=source_face, parameters=_given(face_swapper_model=face_swapper_model))
    return await _queue(ctx, request, character_id, preset_id, priority)


@tool(title="Edit a face's expression", operation="create")
async def edit_face_expression(
    ctx: Context,
    image: ImageArg = None,
    reference_image: ReferenceImage = None,
    character_id: OptionalCharacter = None,
    preset_id: PresetArg = None,
    priority: Priority = 0,
    values: Annotated[
        dict[EditorKey, EditorValue] | None,
        Field(description="face_editor_* values −100..100, e.g. {\"face_editor_mouth_smile\": 40}."),
    ] = None,
) -> QueuedJob:
    """Queue an expression or head-pose edit of a face."""
    request = OperationRequest(operation_type="edit", image=image, reference_image=reference_image,
                               parameters={str(k): v for k, v in (values or {}).items()})
    return await _queue(ctx, request, character_id, preset_id, priority)


@tool(title="Mask a face", operation="create")
async def mask_face(
    ctx: Context,
    image: ImageArg = None,
    reference_image: ReferenceImage = None,
    character_id: OptionalCharacter = None,
    priority: Priority = 0,
    face_mask_types: Annotated[list[FaceMaskType] | None, Field(min_length=1)] = None,
    face_selector_mode: FaceSelectorMode | None = None,
    face_mask_areas: list[FaceMaskArea] | None = None,
    face_mask_regions: list[FaceMaskRegion] | None = None,
    face_mask_blur: Blend = None,
) -> QueuedJob:
    """Queue a face mask image (areas and regions apply to the area and region types)."""
    request = OperationRequest(operation_type="mask", image=image, reference_image=reference_image, parameters=_given(
        face_mask_types=face_mask_types, face_selector_mode=face_selector_mode, face_mask_areas=face_mask_areas,
        face_mask_regions=face_mask_regions, face_mask_blur=face_mask_blur))
    return await _queue(ctx, request, character_id, None, priority)


@tool(title="Detect faces", operation="create")
async def detect_faces(
    ctx: Context,
    image: ImageArg = None,
    reference_image: ReferenceImage = None,
    character_id: OptionalCharacter = None,
    priority: Priority = 0,
    face_detector_model: FaceDetectorModel | None = None,
    face_detector_size: FaceDetectorSize | None = None,
) -> QueuedJob:
    """Queue face detection: the output image marks every face found with its box and landmarks."""
    request = OperationRequest(operation_type="detect", image=image, reference_image=reference_image,
                               parameters=_given(face_detector_model=face_detector_model,
                                                 face_detector_size=face_detector_size))
    return await _queue(ctx, request, character_id, None, priority)


@tool(title="Run FaceFusion operations as one job", operation="create")
async def run_facefusion_batch(
    character_id: CharacterId,
    operations: Annotated[list[OperationRequest], Field(min_length=1, max_length=MAX_BATCH_OPERATIONS)],
    ctx: Context,
    preset_id: Annotated[PresetArg, Field(description="A preset; it applies to operations of its type.")] = None,
    priority: Priority = 0,
) -> QueuedJob:
    """Queue several operations on one character's images as one job, with a result per operation. Each item
    takes the arguments of its single-operation tool; parameters go in its parameters object."""
    queued = await get_services(ctx).facefusion.queue(
        operations, character_id=character_id, preset_id=preset_id, priority=priority, batch=True
    )
    await notify_changed(ctx, [queued.uri, *([preset_uri(preset_id)] if preset_id else [])])
    return queued
