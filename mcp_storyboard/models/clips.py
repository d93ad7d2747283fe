"""The ``clips`` collection: the content units of a scene, and the generated media kept on each clip."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, AliasChoices, Field, model_validator

from mcp_storyboard.models.common import (
    Document,
    StoryboardModel,
    UtcDatetime,
    Uuid,
    keep,
    new_id,
    utc_now,
)
from mcp_storyboard.models.values import (
    NOT_BOOL,
    CollectionPatch,
    DisplayOrder,
    Lyrics,
    MediaUrl,
    PositiveInt,
    Prompt,
    ScalarMap,
    is_safe_key,
)

ClipType = Literal["image", "video", "text"]
"""What a clip shows."""

TIMELINE_MAX_SECONDS = 10_000.0
"""Upper bound of a clip's position and duration on its scene's timeline (≈2.8 h)."""


def _round_centiseconds(value: float) -> float:
    # `+ 0.0` turns -0.0 into 0.0.
    return round(value, 2) + 0.0


TimelinePosition = Annotated[
    float,
    Field(ge=0.0, le=TIMELINE_MAX_SECONDS, allow_inf_nan=False),
    NOT_BOOL,
    AfterValidator(_round_centiseconds),
]
"""Seconds from the start of the scene, 0–10,000, rounded to 2 decimals after the range check."""

ClipDuration = Annotated[float, Field(gt=0.0, le=TIMELINE_MAX_SECONDS, allow_inf_nan=False), NOT_BOOL]
"""Seconds, more than 0 and at most 10,000."""

InferenceConfigKey = Annotated[str, Field(min_length=1, max_length=600)]
"""``<model_id>:<preset_type>``: inference configurations have no id of their own (see
``InferenceConfiguration.key``)."""

def legacy_media_id(url: str) -> str:
    """The stable id given to a gallery entry stored as a plain URL: ``uuid5(NAMESPACE_URL, url.strip())``.

    The same URL always gets the same id, so a selection made on a legacy entry survives re-reads.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, url.strip()))


class GeneratedMedia(StoryboardModel):
    """One image or video in a clip's gallery (``generated_images`` / ``generated_videos``).

    Addition to the schema, which stores plain URLs: a legacy plain-URL entry is read as an object whose ``id``
    is ``legacy_media_id(url)`` and whose ``created_at`` is null (unknown). The original app's object shape
    (``model_name``, ``generation_params``) is read too.
    """

    id: Uuid = Field(default_factory=new_id)
    """Entry id; ``selected_image_id`` / ``selected_video_id`` point at it."""
    url: MediaUrl
    """Where the media is: ``storyboard://media/{id}`` for stored files, or an external URL."""
    media_id: Uuid | None = None
    """The file's id in the media store, when it is stored there."""
    prompt: Prompt = ""
    """The prompt it was generated from."""
    negative_prompt: Prompt = ""
    """The negative prompt it was generated with."""
    params: ScalarMap = Field(default_factory=dict)
    """Generation parameters (seed, steps, cfg, sampler, size…), JSON scalars only."""
    server_id: Uuid | None = None
    """The ComfyUI server (or provider) that generated it."""
    model: str | None = Field(default=None, max_length=512)
    """The model (checkpoint) it was generated with."""
    created_at: UtcDatetime | None = Field(default_factory=utc_now)
    """When it was generated (UTC); null for legacy plain-URL entries, whose time is unknown."""

    @model_validator(mode="before")
    @classmethod
    def _read_legacy(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"id": legacy_media_id(data), "url": data, "created_at": None}
        if isinstance(data, dict):
            if "model" not in data and "model_name" in data:
                data = {**data, "model": data["model_name"]}
            legacy_params = data.get("generation_params")
            if "params" not in data and isinstance(legacy_params, dict):
                # Only what the current shape can hold: scalar values under keys a document may carry.
                scalars = {k: v for k, v in legacy_params.items()
                           if (v is None or isinstance(v, str | int | float)) and is_safe_key(str(k))}
                data = {**data, "params": scalars}
        return data


class Clip(Document):
    """A clip: an image, video or text unit placed on its scene's timeline.

    Additions to the schema: ``name``, ``lyrics``, ``alternate_of``, ``alternate_number``, ``selected_image_id``,
    ``selected_video_id``, and gallery entries as objects (``GeneratedMedia``). The original app's ``length`` is
    read as ``duration``.
    """

    collection: ClassVar[str] = "clips"

    scene_id: Uuid
    """The scene the clip belongs to."""
    project_id: Uuid
    """The project of that scene (denormalised for project-wide queries)."""
    type: ClipType = "image"
    """What the clip shows: image, video or text."""
    name: str = Field(default="", max_length=200)
    """Addition: clip name, at most 200 characters."""
    order: DisplayOrder = 0
    """Display order within the scene (≥0)."""
    timeline_position: TimelinePosition = 0.0
    """Start on the scene's timeline in seconds, 0–10,000, rounded to 2 decimals."""
    duration: ClipDuration = Field(default=5.0, validation_alias=AliasChoices("duration", "length"))
    """Length in seconds, more than 0 and at most 10,000 (default 5.0)."""
    content: str = Field(default="", max_length=10_000)
    """Text content (for type=text), at most 10,000 characters."""
    lyrics: Lyrics = ""
    """Addition: the clip's lyrics, at most 5000 characters."""
    media_url: MediaUrl | None = None
    """The clip's media file."""
    thumbnail_url: MediaUrl | None = None
    """Thumbnail of the clip."""
    image_prompt: Prompt | None = None
    """Image generation prompt."""
    video_prompt: Prompt | None = None
    """Video generation prompt."""
    generated_images: list[GeneratedMedia] = Field(default_factory=list)
    """Gallery of generated images, oldest first."""
    generated_videos: list[GeneratedMedia] = Field(default_factory=list)
    """Gallery of generated videos, oldest first."""
    selected_image_id: Uuid | None = None
    """Addition: id of the selected entry of ``generated_images``."""
    selected_video_id: Uuid | None = None
    """Addition: id of the selected entry of ``generated_videos`` (exports use it)."""
    comfyui_server_id: Uuid | None = None
    """ComfyUI server used for generation."""
    character_id: Uuid | None = None
    """Associated character."""
    style_template_id: Uuid | None = None
    """Applied style template."""
    inference_config_id: InferenceConfigKey | None = None
    """Inference configuration used, as ``<model_id>:<preset_type>``."""
    alternate_of: Uuid | None = None
    """Addition: the original clip this one is an alternate of (alternates are one level deep)."""
    alternate_number: PositiveInt | None = None
    """Addition: n in "<name> A<n>" for an alternate (≥1); null for an original."""


class ClipPatch(CollectionPatch):
    """Fields of a clip a caller may change.

    Gallery entries are appended atomically, selection goes through its own operation (it checks the entry
    exists), and alternate links change only by creating or promoting alternates.
    """

    type: ClipType = keep()
    """New clip type: image, video or text."""
    name: str = keep(max_length=200)
    """New name, at most 200 characters."""
    order: DisplayOrder = keep()
    """New display order (≥0)."""
    timeline_position: TimelinePosition = keep()
    """New start in seconds, 0–10,000, rounded to 2 decimals."""
    duration: ClipDuration = keep()
    """New length in seconds, more than 0 and at most 10,000."""
    content: str = keep(max_length=10_000)
    """New text content, at most 10,000 characters."""
    lyrics: Lyrics = keep()
    """New lyrics, at most 5000 characters."""
    media_url: MediaUrl | None = None
    """New media URL; null removes it."""
    thumbnail_url: MediaUrl | None = None
    """New thumbnail URL; null removes it."""
    image_prompt: Prompt | None = None
    """New image prompt; null clears it."""
    video_prompt: Prompt | None = None
    """New video prompt; null clears it."""
    comfyui_server_id: Uuid | None = None
    """New ComfyUI server; null clears it."""
    character_id: Uuid | None = None
    """New character; null detaches it."""
    style_template_id: Uuid | None = None
    """New style template; null detaches it."""
    inference_config_id: InferenceConfigKey | None = None
    """New inference configuration (``<model_id>:<preset_type>``); null clears it."""
