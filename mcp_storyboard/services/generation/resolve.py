"""Turn a request into stored ``GenerationItem``s: every prompt, checkpoint, LoRA and parameter decided at queue
time, so a worker never guesses and a retry repeats the same generation (the seed included).

Order of precedence, per clip: the request's value; else the clip's (prompt composed with its character and style
template, inference preset); else the named model's (path, stored or built-in preset); else the family's default
size. Anything that cannot run is refused here, naming the field, before anything is written.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

import pydantic

from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.models.catalog import (
    DatabaseModel,
    InferenceConfiguration,
    InferenceParameters,
    PresetType,
)
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.generation import (
    MAX_SEED,
    ComfyUIServer,
    GenerationItem,
    GenerationKind,
    GenerationParams,
    LoraSpec,
)
from mcp_storyboard.models.style_templates import StyleTemplate
from mcp_storyboard.integrations.comfyui.workflow import check_workflow, patch_workflow
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.comfyui_servers import ComfyUIServerRepository
from mcp_storyboard.services.generation.requests import ClipRequest, GenerationSettings
from mcp_storyboard.services.models.families import built_in_preset
from mcp_storyboard.services.models.service import ModelService
from mcp_storyboard.services.styles.prompt_composer import compose_prompt

_SD1 = (512, 512)
_SQUARE = (1024, 1024)
FAMILY_SIZES: dict[str, tuple[int, int]] = {
    "SD 1.4": _SD1, "SD 1.5": _SD1, "SD 2.0": (768, 768), "SD 2.1": (768, 768),
    "Wan Video": (832, 480), "Wan Video 2.2": (1280, 704), "LTXV": (768, 512), "Hunyuan Video": (848, 480),
    "SVD": (1024, 576),
}  # fmt: skip
"""Width × height a family was trained at; every family not listed (SDXL, Pony, Flux, HiDream, Qwen, ...) 1024²."""
VIDEO_DEFAULTS: dict[str, tuple[int, float]] = {
    "Wan Video": (81, 16.0), "Wan Video 2.2": (81, 16.0), "LTXV": (97, 24.0), "Hunyuan Video": (73, 24.0),
}
"""Frames and fps of a video; other families 33 frames at 16 fps."""
_VIDEO = (33, 16.0)
MODEL_HINT = "search_models with type=checkpoint finds one"


def family_size(base_model: str) -> tuple[int, int]:
    return FAMILY_SIZES.get(base_model, _SQUARE)


@dataclass(frozen=True)
class _Model:
    model: DatabaseModel | None
    preset_type: PresetType
    field: str
    """Where the model came from (for errors): ``model_id`` or the clip's ``inference_config_id``."""


@dataclass
class _Reads:
    """Documents one request reads, each once however many clips share it."""

    clips: dict[str, Clip]
    characters: dict[str, Character | None] = field(default_factory=dict)
    templates: dict[str, StyleTemplate | None] = field(default_factory=dict)
    models: dict[str, DatabaseModel | None] = field(default_factory=dict)
    presets: dict[tuple[str, PresetType], InferenceParameters] = field(default_factory=dict)

    async def character(self, repos: Repositories, character_id: str | None) -> Character | None:
        if character_id is None:
            return None
        if character_id not in self.characters:
            self.characters[character_id] = await repos.characters.find(character_id)
        return self.characters[character_id]

    async def template(self, repos: Repositories, template_id: str | None) -> StyleTemplate | None:
        if template_id is None:
            return None
        if template_id not in self.templates:
            self.templates[template_id] = await repos.style_templates.find(template_id)
        return self.templates[template_id]


class ItemResolver:
    """Resolves requests against the database; reads only."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos
        self.models = ModelService(repos.database)
        self.servers = ComfyUIServerRepository(repos.database)

    async def server(self, server_id: str | None, field: str = "server_id") -> ComfyUIServer | None:
        """The pinned server, which must exist and be active.

        Raises:
            NotFoundError, ValidationError.
        """
        if server_id is None:
            return None
        server = await self.servers.find(server_id)
        if server is None:
            raise NotFoundError("ComfyUI server", server_id, hint="list_comfyui_servers shows the registered servers")
        if not server.is_active:
            raise ValidationError(field, f"ComfyUI server {server_id} ({server.name}) is disabled",
                                  hint="enable it with update_comfyui_server, or leave server_id out")
        return server

    async def items(
        self, settings: GenerationSettings, requests: Sequence[ClipRequest], *, project_id: str | None, batch: bool
    ) -> list[GenerationItem]:
        """One resolved item per request, in order; ``project_id``: every clip must belong to it.

        Raises:
            NotFoundError: a clip, model or server does not exist.
            ValidationError: a clip without a prompt, a model that is no checkpoint, a bad workflow, ...
        """
        if settings.workflow is not None:
            # The runner's own checks, run at queue time: a workflow that could never run is not queued.
            patch_workflow(check_workflow(settings.workflow), settings.workflow_inputs)
        elif settings.workflow_inputs:
            raise ValidationError("workflow_inputs", "need a workflow to patch", hint="pass workflow too")
        if settings.kind == "image":
            for name in ("frames", "fps"):
                if name in settings.params.changes():
                    raise ValidationError(f"params.{name}", "applies to video only", hint="pass kind=video, or "
                                          f"leave {name} out")
        seen: set[str] = set()
        items: list[GenerationItem] = []
        reads = _Reads({c.id: c for c in await self.repos.clips.get_many(r.clip_id for r in requests)})
        for n, request in enumerate(requests):
            where = f"clips[{n}]." if batch else ""
            if request.clip_id in seen:
                raise ValidationError(f"{where}clip_id", f"clip {request.clip_id} is listed twice",
                                      hint="list each clip once")
            seen.add(request.clip_id)
            clip = reads.clips.get(request.clip_id)
            if clip is None:
                raise NotFoundError("clip", request.clip_id, hint="list_clips shows a scene's clips")
            if project_id is not None and clip.project_id != project_id:
                raise ValidationError(f"{where}clip_id", f"clip {clip.id} belongs to project {clip.project_id}, "
                                      f"not to project {project_id}", hint="queue one project's clips per batch")
            items.append(await self._item(settings, request, clip, where, reads))
        return items

    async def _item(self, settings: GenerationSettings, request: ClipRequest, clip: Clip, where: str,
                    reads: _Reads) -> GenerationItem:
        kind = settings.kind
        # The composition StyleTemplateService.compose makes, over documents read once per request.
        character = await reads.character(self.repos, clip.character_id)
        template = await reads.template(self.repos, clip.style_template_id)
        part = compose_prompt(kind, clip.image_prompt if kind == "image" else clip.video_prompt, clip_id=clip.id,
                              character=character, template=template, base_negative=settings.negative_prompt)
        prompt = request.prompt if request.prompt and request.prompt.strip() else None
        if prompt is None and part.has_clip_prompt:
            prompt = part.positive
        if prompt is None:
            raise ValidationError(f"{where}prompt", f"clip {clip.id} ('{clip.name}') has no {kind}_prompt and none "
                                  "was given", hint=f"pass prompt, or set the clip's {kind}_prompt with update_clip")
        negative = request.negative_prompt if request.negative_prompt is not None else part.negative
        chosen = await self._model(settings, clip, where, reads)
        checkpoint = settings.checkpoint or (chosen.model.path if chosen.model is not None else None)
        if checkpoint is None and settings.workflow is None:
            raise ValidationError("model_id", f"is needed for clip {clip.id}: no model_id, checkpoint or workflow was "
                                  "given and the clip has no inference preset", hint=MODEL_HINT)
        params = await self._params(settings, request, chosen, kind, where, reads)
        loras = list(settings.loras)
        for lora in part.loras:  # the character's
            if all(existing.name != lora.name for existing in loras):
                loras.append(LoraSpec(name=lora.name, strength=lora.weight))
        try:
            return GenerationItem(
                clip_id=clip.id, kind=kind, prompt=prompt, negative_prompt=negative,
                model_id=chosen.model.id if chosen.model is not None else None, checkpoint=checkpoint, loras=loras,
                params=params, workflow=settings.workflow, workflow_inputs=settings.workflow_inputs,
            )  # fmt: skip
        except pydantic.ValidationError as exc:
            raise _named(exc, where) from None

    async def _model(self, settings: GenerationSettings, clip: Clip, where: str, reads: _Reads) -> _Model:
        if settings.model_id is not None:
            model_id, preset_type, field = settings.model_id, settings.preset or "quality", "model_id"
        elif clip.inference_config_id is not None:
            model_id, raw_type = InferenceConfiguration.split_key(clip.inference_config_id)
            preset_type = settings.preset or ("speed" if raw_type == "speed" else "quality")
            field = f"{where}inference_config_id of clip {clip.id}"
        else:
            return _Model(None, settings.preset or "quality", "model_id")
        if model_id not in reads.models:
            reads.models[model_id] = await self.models.repo.find(model_id)
        model = reads.models[model_id]
        if model is None:
            raise NotFoundError("model", model_id, hint=MODEL_HINT if field == "model_id"
                                else "the clip's inference preset names it; pass model_id, or fix the clip")
        if model.type != "checkpoint":
            raise ValidationError(field, f"model {model.id} is a {model.type}, not a checkpoint", hint=MODEL_HINT)
        if not model.is_active:
            raise ValidationError(field, f"model {model.id} is withdrawn (not active)",
                                  hint="offer it again with set_model_active, or pick another")
        return _Model(model, preset_type, field)

    async def _params(self, settings: GenerationSettings, request: ClipRequest, chosen: _Model,
                      kind: GenerationKind, where: str, reads: _Reads) -> GenerationParams:
        if chosen.model is not None:
            key = (chosen.model.id, chosen.preset_type)
            if key not in reads.presets:
                reads.presets[key] = (await self.models.presets.get(*key)).parameters
            preset, family = reads.presets[key], chosen.model.base_model
        else:
            preset, family = built_in_preset("Other", chosen.preset_type)[0], "Other"
        given = settings.params.changes()
        width, height = family_size(family)
        frames, fps = VIDEO_DEFAULTS.get(family, _VIDEO) if kind == "video" else (None, None)
        seed = request.seed if request.seed is not None else given.get("seed")
        defaults = {
            "width": width, "height": height, "steps": preset.steps, "cfg": preset.cfg_scale,
            "sampler_name": preset.sampler_name, "scheduler": preset.scheduler, "denoise": preset.denoise,
            "frames": frames, "fps": fps,
            "seed": seed if seed is not None else secrets.randbelow(MAX_SEED + 1),
        }  # fmt: skip
        try:
            return GenerationParams.model_validate(defaults | {k: v for k, v in given.items() if k != "seed"})
        except pydantic.ValidationError as exc:
            raise _named(exc, f"{where}params.") from None


def _named(exc: pydantic.ValidationError, where: str) -> ValidationError:
    """Our error for a resolved item pydantic refused, its field prefixed with where it came from."""
    first = exc.errors()[0]
    field = where + ".".join(str(p) for p in first["loc"]) if first["loc"] else where.rstrip(".") or "item"
    return ValidationError(field, first["msg"])
