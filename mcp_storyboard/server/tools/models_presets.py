"""Inference presets of catalog models: each model's quality and speed parameters."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.catalog import InferenceParameters
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.results import Written
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._model_args import ModelIdArg, PresetTypeArg
from mcp_storyboard.services.models.views import Preset, model_uri

TOOLSET: Toolset = "models"
tool = ToolRegistry(TOOLSET)


@tool(title="Get an inference preset", operation="read")
async def get_inference_preset(model_id: ModelIdArg, preset_type: PresetTypeArg, ctx: Context) -> Preset:
    """A model's quality or speed parameters: stored, else its family's built-in default (see source)."""
    return await get_services(ctx).models.presets.get(model_id, preset_type)


@tool(title="Set an inference preset", operation="update")
async def set_inference_preset(
    model_id: ModelIdArg,
    preset_type: PresetTypeArg,
    parameters: Annotated[InferenceParameters, Field(description="ComfyUI KSampler parameters.")],
    ctx: Context,
    description: Annotated[str | None, Field(max_length=2000, description="What the preset is for.")] = None,
) -> Written:
    """Store a model's quality or speed parameters, replacing its previous ones."""
    preset = await get_services(ctx).models.presets.set(model_id, preset_type, parameters, description)
    await notify_changed(ctx, [model_uri(model_id)])
    return Written(id=f"{preset.model_id}:{preset.preset_type}", uri=model_uri(preset.model_id),
                   changed={"parameters": preset.parameters.model_dump(mode="json")})
