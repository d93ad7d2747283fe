"""What the model services return: search rows, a preset with its origin, a model with its presets; the URI."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from mcp_storyboard.models.catalog import (
    DatabaseModel,
    InferenceParameters,
    ModelType,
    PresetType,
)
from mcp_storyboard.models.common import Page, StoryboardModel

MODEL_URI_PREFIX = "storyboard://models/"


def model_uri(model_id: str) -> str:
    """``storyboard://models/<id>``, the id percent-encoded (ids are file names and may hold ``/``)."""
    return MODEL_URI_PREFIX + (model_id if model_id == "{model_id}" else quote(model_id, safe=""))


class ModelSummary(StoryboardModel):
    """A catalog model in a search result (get_model shows its description)."""

    id: str
    name: str
    type: ModelType
    base_model: str
    is_active: bool
    is_nsfw: bool
    tags: list[str]
    trigger_words: str | None

    @classmethod
    def of(cls, model: DatabaseModel) -> ModelSummary:
        return cls.model_validate(model.model_dump(include=set(cls.model_fields)))


class ModelPage(Page[ModelSummary]):
    """One page of models, best match first, then by name; pass ``next_cursor`` back for the next page."""


class Preset(StoryboardModel):
    """A model's quality or speed parameters: stored for it, or its family's built-in default."""

    model_id: str
    preset_type: PresetType
    parameters: InferenceParameters
    description: str
    source: Literal["stored", "built-in"]
    family: str
    """The base-model family whose defaults apply when nothing is stored."""


class ModelWithPresets(DatabaseModel):
    """A catalog model with both of its presets (stored or built-in)."""

    presets: list[Preset]
