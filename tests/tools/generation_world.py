"""A project to generate for: a character with trigger words and a LoRA, a style template, a catalog checkpoint
with a stored speed preset, and clips with and without prompts."""

from __future__ import annotations

from dataclasses import dataclass

from mcp_storyboard.models.catalog import DatabaseModel, InferenceParameters
from mcp_storyboard.models.characters import Character
from mcp_storyboard.services.container import Services
from tests.seed import seed_clip, seed_project, seed_template

CHECKPOINT = "sdxl/juggernautXL_v9.safetensors"
SPEED = InferenceParameters(steps=9, cfg_scale=4.5, sampler_name="euler_ancestral", scheduler="karras")


@dataclass
class GenerationWorld:
    project_id: str
    character_id: str
    template_id: str
    model_id: str
    clip_ids: list[str]
    """Three clips with image prompts (the first with the character and template, and a video prompt)."""
    bare_clip_id: str
    """A clip with no prompt at all."""


async def generation_world(services: Services, name: str = "Night Drive") -> GenerationWorld:
    project_id = await seed_project(services, name)
    character = await services.repositories.characters.insert(Character(
        project_id=project_id, name="Mara", description="a courier in a red coat", trigger_words="mara_v2",
        lora="mara_lora:0.8"))
    template_id = await seed_template(services, project_id, "Noir", prompt_additions="film noir, high contrast",
                                      negative_prompt="blurry, lowres")
    model = await services.models.repo.find("juggernautXL_v9.safetensors")  # the catalog is shared by projects
    if model is None:
        model = await services.models.create(DatabaseModel(
            id="juggernautXL_v9.safetensors", name="Juggernaut XL", type="checkpoint", base_model="SDXL",
            path=CHECKPOINT))
        await services.models.presets.set(model.id, "speed", SPEED, "fast drafts")
    first = await seed_clip(services, project_id, "Chase", image_prompt="running through neon rain",
                            video_prompt="camera follows her down the alley", character_id=character.id,
                            style_template_id=template_id)
    others = [await seed_clip(services, project_id, f"Shot {n}", image_prompt=f"wide shot {n} of the harbour")
              for n in (2, 3)]
    bare = await seed_clip(services, project_id, "Empty")
    return GenerationWorld(project_id, character.id, template_id, model.id, [first.id, *(c.id for c in others)],
                           bare.id)
