"""What a caller asks for when queueing generation: the settings a batch shares, and per-clip overrides.

Every field is optional: what is left out is resolved at queue time (``resolve``) from the clip (its prompts,
character, style template and inference preset), the named model (its checkpoint and preset) and the family's
defaults, so the stored ``GenerationItem`` says exactly what will run.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mcp_storyboard.models.catalog import PresetType
from mcp_storyboard.models.common import StoryboardModel, Uuid, keep
from mcp_storyboard.models.generation import (
    MAX_SEED,
    GenerationKind,
    LoraSpec,
    WorkflowInput,
)
from mcp_storyboard.models.samplers import SamplerName, SchedulerName
from mcp_storyboard.models.values import (
    NOT_BOOL,
    CollectionPatch,
    Fraction,
    Integer,
    JsonObject,
    ModelId,
    Prompt,
    Real,
)

Seed = Annotated[int, Field(ge=0, le=MAX_SEED), NOT_BOOL]
MAX_BATCH_CLIPS = 100


class ParamOverrides(CollectionPatch):
    """Sampling parameters to force; each one left out comes from the preset or the family's defaults."""

    width: Integer = keep(ge=64, le=4096, multiple_of=8)
    height: Integer = keep(ge=64, le=4096, multiple_of=8)
    steps: Integer = keep(ge=1, le=200)
    cfg: Real = keep(ge=0.0, le=30.0)
    sampler_name: SamplerName = keep()
    scheduler: SchedulerName = keep()
    seed: Seed = keep()
    """Random (and stored) when unset."""
    denoise: Fraction = keep()
    frames: Integer = keep(ge=1, le=300)
    """Video only (fps too)."""
    fps: Real = keep(gt=0.0, le=120.0)


class GenerationSettings(StoryboardModel):
    """What every clip of a request shares."""

    kind: GenerationKind = "image"
    model_id: ModelId | None = None
    """A checkpoint of the catalog: its path is the checkpoint, its preset the parameters. Default: the model of
    the clip's inference preset."""
    checkpoint: str | None = Field(default=None, min_length=1, max_length=1024)
    """A checkpoint file name (instead of, or overriding, the model's path)."""
    preset: PresetType | None = None
    """quality or speed (default: the clip's inference preset's type, else quality)."""
    params: ParamOverrides = Field(default_factory=ParamOverrides)
    loras: list[LoraSpec] = Field(default_factory=list, max_length=10)
    """Loaded before the character's LoRA."""
    negative_prompt: Prompt | None = None
    """Merged with the style template's negative prompt."""
    server_id: Uuid | None = None
    """Run only on this (active) server."""
    workflow: JsonObject | None = None
    """A custom API-format graph to run instead of the built-in one."""
    workflow_inputs: list[WorkflowInput] = Field(default_factory=list, max_length=100)
    max_attempts: Annotated[int, Field(ge=1, le=10), NOT_BOOL] = 3


class ClipRequest(CollectionPatch):
    """One clip of a batch and what it overrides (a patch of what would be resolved: unset fields are resolved)."""

    clip_id: Uuid
    prompt: Prompt = keep()
    negative_prompt: Prompt = keep()
    seed: Seed = keep()
