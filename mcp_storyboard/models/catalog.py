"""The model catalog: ``database_models``, ``inference_configurations`` and ``civitai_models``.

None of the three has a generated UUID ``id``: a catalog model's id is a string (often its file name), an
inference configuration is keyed by ``model_id`` + ``preset_type``, and a CivitAI model keeps CivitAI's integer id.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, AliasChoices, Field

from mcp_storyboard.models.common import StoryboardModel, keep
from mcp_storyboard.models.samplers import SamplerName, SchedulerName
from mcp_storyboard.models.values import (
    CollectionPatch,
    Fraction,
    Integer,
    JsonObject,
    ModelId,
    Name,
    PositiveInt,
    Real,
    Tags,
    Timestamped,
)

ModelType = Literal["checkpoint", "lora", "embedding", "controlnet", "vae", "upscaler"]
"""Kind of model file."""
PresetType = Literal["quality", "speed"]
"""The two inference configurations of a model."""

CANONICAL_BASE_MODELS: tuple[str, ...] = (
    "SD 1.4", "SD 1.5", "SD 2.0", "SD 2.1", "SDXL", "SD 3", "SD 3.5", "Pony", "Illustrious", "NoobAI",
    "Flux.1 D", "Flux.1 S", "Flux.1 Kontext", "Flux.1 Krea", "Wan Video", "Wan Video 2.2", "HiDream", "Qwen",
    "Hunyuan Video", "LTXV", "SVD", "Stable Cascade", "AuraFlow", "Kolors", "Other",
)  # fmt: skip
"""The base-model names this server writes; any other value is kept as given (trimmed)."""

_ALIASES: dict[str, str] = {
    "sdv14": "SD 1.4", "sdv15": "SD 1.5", "stablediffusion14": "SD 1.4",
    "stablediffusion15": "SD 1.5", "sdv20": "SD 2.0", "sdv21": "SD 2.1", "sd20768": "SD 2.0",
    "sd21768": "SD 2.1", "sdxl10": "SDXL", "sdxl09": "SDXL", "sdxlbase": "SDXL", "stablediffusionxl": "SDXL",
    "sd30": "SD 3", "sdv3": "SD 3", "stablediffusion3": "SD 3", "stablediffusion35": "SD 3.5",
    "ponyxl": "Pony", "ponydiffusion": "Pony", "ponydiffusionxl": "Pony", "ponydiffusionv6xl": "Pony",
    "illustriousxl": "Illustrious", "noobaixl": "NoobAI", "fluxd": "Flux.1 D", "fluxdev": "Flux.1 D",
    "flux1dev": "Flux.1 D", "fluxs": "Flux.1 S", "fluxschnell": "Flux.1 S", "flux1schnell": "Flux.1 S",
    "fluxkontext": "Flux.1 Kontext", "fluxkrea": "Flux.1 Krea", "wan": "Wan Video", "wan21": "Wan Video",
    "wanvideo21": "Wan Video", "wan22": "Wan Video 2.2", "qwenimage": "Qwen",
    "ltx": "LTXV", "ltxvideo": "LTXV", "stablevideodiffusion": "SVD", "unknown": "Other",
}  # fmt: skip


def _compact(value: str) -> str:
    return re.sub(r"[\s._\-]+", "", value).lower()


_LOOKUP: dict[str, str] = {_compact(name): name for name in CANONICAL_BASE_MODELS} | _ALIASES


def normalize_base_model(raw: str) -> str:
    """The canonical name of a base model, e.g. "sdxl 1.0" → "SDXL", "sd15" → "SD 1.5", "flux_dev" → "Flux.1 D".

    Spelling is ignored (case, spaces, dots, dashes, underscores). The set is open: a value that is not a known
    spelling is kept, trimmed; an empty value is "Other".
    """
    value = raw.strip()
    if not value:
        return "Other"
    return _LOOKUP.get(_compact(value), value)


BaseModelName = Annotated[str, Field(max_length=100), AfterValidator(normalize_base_model)]
"""A base model name, normalised by ``normalize_base_model`` (at most 100 characters)."""
TriggerWords = Annotated[str, Field(max_length=500)]
"""Trigger words, at most 500 characters."""
CatalogDescription = Annotated[str, Field(max_length=20_000)]
"""A catalog description (CivitAI's are HTML), at most 20,000 characters."""


class DatabaseModel(Timestamped):
    """A model available for generation (``database_models``): discovered on a ComfyUI server or imported."""

    collection: ClassVar[str] = "database_models"

    id: ModelId
    """Model id: not a UUID but a string, usually the model's file name."""
    name: Name
    """Display name, 1–200 characters."""
    type: ModelType
    """checkpoint, lora, embedding, controlnet, vae or upscaler."""
    base_model: BaseModelName = "Other"
    """Base model family, normalised ("SD 1.5", "SDXL", "Pony", "Flux.1 D", …; other values kept)."""
    path: str = Field(min_length=1, max_length=1024)
    """File path or identifier as the server knows it."""
    description: CatalogDescription = ""
    """Model description."""
    trigger_words: TriggerWords | None = None
    """Words the model needs in the prompt."""
    is_active: bool = True
    """Whether the model is offered for generation."""
    is_nsfw: bool = False
    """Whether the model is flagged NSFW."""
    tags: Tags = Field(default_factory=list)
    """Searchable tags (at most 100, each 1–100 characters)."""
    civitai_id: PositiveInt | None = None
    """The matching CivitAI model id."""


class DatabaseModelPatch(CollectionPatch):
    """Fields of a catalog model a caller may change (the id is the key and does not change)."""

    name: Name = keep()
    """New display name, 1–200 characters."""
    type: ModelType = keep()
    """New model type."""
    base_model: BaseModelName = keep()
    """New base model (normalised)."""
    path: str = keep(min_length=1, max_length=1024)
    """New path."""
    description: CatalogDescription = keep()
    """New description."""
    trigger_words: TriggerWords | None = None
    """New trigger words; null clears them."""
    is_active: bool = keep()
    """Offer the model for generation or not."""
    is_nsfw: bool = keep()
    """New NSFW flag."""
    tags: Tags = keep()
    """New tags (replace the list)."""
    civitai_id: PositiveInt | None = None
    """New CivitAI id; null unlinks."""


class InferenceParameters(StoryboardModel):
    """Sampling parameters of an inference configuration (ComfyUI KSampler names)."""

    steps: Integer = Field(ge=1, le=200)
    """Sampling steps, 1–200."""
    cfg_scale: Real = Field(gt=0.0, le=30.0)
    """Classifier-free guidance scale, more than 0 and at most 30."""
    sampler_name: SamplerName
    """ComfyUI sampler name, e.g. "euler", "euler_ancestral", "dpmpp_2m"."""
    scheduler: SchedulerName
    """ComfyUI scheduler name, e.g. "normal", "karras", "simple"."""
    denoise: Fraction = 1.0
    """Denoising strength, 0.0–1.0."""


class InferenceConfiguration(Timestamped):
    """A quality or speed preset for one catalog model (``inference_configurations``).

    It has no ``id``: the key is (``model_id``, ``preset_type``), unique. Clips refer to one by ``key``.
    """

    collection: ClassVar[str] = "inference_configurations"

    model_id: ModelId
    """The catalog model (``database_models.id``)."""
    preset_type: PresetType
    """quality or speed."""
    parameters: InferenceParameters
    """Sampling parameters."""
    description: str = Field(default="", max_length=2000)
    """What the preset is for, at most 2000 characters."""

    @property
    def key(self) -> str:
        """``<model_id>:<preset_type>``, the value a clip's ``inference_config_id`` holds."""
        return f"{self.model_id}:{self.preset_type}"

    @staticmethod
    def split_key(key: str) -> tuple[str, str]:
        """``(model_id, preset_type)`` of a key; the split is at the last ``:`` (model ids may contain one)."""
        model_id, _, preset_type = key.rpartition(":")
        return model_id, preset_type


class InferenceConfigurationPatch(CollectionPatch):
    """Fields of an inference configuration a caller may change (the key does not change)."""

    parameters: InferenceParameters = keep()
    """New sampling parameters (replace the stored ones)."""
    description: str = keep(max_length=2000)
    """New description, at most 2000 characters."""


class CivitAIModel(Timestamped):
    """A CivitAI catalog entry (``civitai_models``), keyed by CivitAI's integer id.

    CivitAI's ``modelVersions`` is read as ``model_versions``.
    """

    collection: ClassVar[str] = "civitai_models"

    id: PositiveInt
    """CivitAI model id."""
    name: str = Field(min_length=1, max_length=500)
    """Model name."""
    type: str = Field(min_length=1, max_length=100)
    """CivitAI model type (Checkpoint, LORA, TextualInversion, Controlnet, VAE, …): an open set."""
    description: CatalogDescription = ""
    """Model description (HTML)."""
    tags: Tags = Field(default_factory=list)
    """Model tags."""
    nsfw: bool = False
    """CivitAI's NSFW flag."""
    stats: JsonObject = Field(default_factory=dict)
    """Download and rating counters as CivitAI reports them."""
    model_versions: list[JsonObject] = Field(
        default_factory=list, validation_alias=AliasChoices("model_versions", "modelVersions")
    )
    """Published versions (id, name, baseModel, trainedWords, files, images, …) as CivitAI reports them."""
    creator: JsonObject = Field(default_factory=dict)
    """Creator (username, image)."""


class CivitAIModelPatch(CollectionPatch):
    """Fields of a CivitAI entry a refresh may change (the id is the key)."""

    name: str = keep(min_length=1, max_length=500)
    """New name."""
    type: str = keep(min_length=1, max_length=100)
    """New type."""
    description: CatalogDescription = keep()
    """New description."""
    tags: Tags = keep()
    """New tags."""
    nsfw: bool = keep()
    """New NSFW flag."""
    stats: JsonObject = keep()
    """New stats."""
    model_versions: list[JsonObject] = keep()
    """New versions."""
    creator: JsonObject = keep()
    """New creator."""
