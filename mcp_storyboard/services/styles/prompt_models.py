"""The results of prompt composition (structured tool output): the prompts, where each part came from, LoRAs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mcp_storyboard.models.common import StoryboardModel

PromptKind = Literal["image", "video"]
PartSource = Literal["character", "clip", "style_template", "base"]


class PromptPart(StoryboardModel):
    """One piece of a composed prompt and where it came from."""

    target: Literal["positive", "negative"]
    """Which prompt the text is part of."""
    source: PartSource
    """Where it came from: the character, the clip itself, the style template, or the caller's base negative prompt."""
    source_id: str | None = None
    """Id of the character, clip or template it came from."""
    fields: list[str]
    """The stored fields that produced the text."""
    text: str
    """The exact text placed in the prompt."""


class LoraRef(StoryboardModel):
    """A LoRA the composed prompt asks for."""

    name: str
    """LoRA name (file name without extension, as the generator knows it)."""
    weight: float
    """Strength, 1.0 unless the character's ``lora`` says ``name:weight``."""
    tag: str | None
    """``<lora:NAME:WEIGHT>``; null when the name cannot be written as a tag (it holds ``<``, ``>`` or ``:``)."""
    in_positive: bool
    """Whether a ``<lora:NAME...>`` tag for it is in the positive prompt (ours, or one the clip's prompt holds)."""
    character_id: str
    """The character whose ``lora`` this is."""


class ComposedPrompt(StoryboardModel):
    """The final prompts for one kind of generation, with the parts that make them up."""

    kind: PromptKind
    """Image or video generation."""
    positive: str
    """The final positive prompt."""
    negative: str
    """The final negative prompt (comma-separated, de-duplicated terms)."""
    has_clip_prompt: bool
    """Whether the clip has its own prompt of this kind; without one the result holds only character and style."""
    parts: list[PromptPart]
    """Every piece of both prompts in order, with its source."""
    loras: list[LoraRef]
    """LoRAs to load (also written as tags in the positive prompt where possible)."""
    notes: list[str] = Field(default_factory=list)
    """Why a part was left out or changed (already present, collapsed repeats, unusable LoRA name)."""


class ComposedClipPrompt(StoryboardModel):
    """A clip's composed prompts for image and video generation. Nothing is stored: this is a preview of what
    generation will send."""

    clip_id: str
    """The clip."""
    character_id: str | None
    """The character used (null: none, or the clip's character no longer exists)."""
    style_template_id: str | None
    """The style template used (null: none, or the clip's template no longer exists)."""
    image: ComposedPrompt
    """Prompts for image generation (from ``image_prompt``)."""
    video: ComposedPrompt
    """Prompts for video generation (from ``video_prompt``)."""
    notes: list[str] = Field(default_factory=list)
    """Why a reference of the clip was left out (its character or template no longer exists)."""


# -- text helpers --------------------------------------------------------------------------------------------------
