"""Inference presets: a model's stored quality / speed parameters, else its family's built-in default."""

from __future__ import annotations

from mcp_storyboard.models.catalog import (
    InferenceConfiguration,
    InferenceParameters,
    PresetType,
)
from mcp_storyboard.repositories.database_models import DatabaseModelRepository
from mcp_storyboard.repositories.inference_configurations import (
    InferenceConfigurationRepository,
)
from mcp_storyboard.services.models.families import built_in_preset
from mcp_storyboard.services.models.views import Preset

PRESET_TYPES: tuple[PresetType, ...] = ("quality", "speed")


class PresetService:
    """Read and write the two presets of a catalog model."""

    def __init__(self, models: DatabaseModelRepository, configurations: InferenceConfigurationRepository) -> None:
        self.models = models
        self.configurations = configurations

    async def get(self, model_id: str, preset_type: PresetType) -> Preset:
        """The stored preset, else the built-in default of the model's base-model family.

        Raises:
            NotFoundError: no such model.
        """
        model = await self.models.get(model_id)
        stored = await self.configurations.find((model.id, preset_type))
        return self._view(model.id, model.base_model, preset_type, stored)

    async def both(self, model_id: str, base_model: str) -> list[Preset]:
        """Quality then speed, each stored or built-in (for a model already read)."""
        stored = {c.preset_type: c for c in await self.configurations.list_for_model(model_id)}
        return [self._view(model_id, base_model, t, stored.get(t)) for t in PRESET_TYPES]

    async def set(
        self, model_id: str, preset_type: PresetType, parameters: InferenceParameters, description: str | None
    ) -> Preset:
        """Store a model's preset, replacing the one it had (the unique (model_id, preset_type) index keeps one).

        Raises:
            NotFoundError: no such model.
        """
        model = await self.models.get(model_id)
        if description is None:
            current = await self.configurations.find((model.id, preset_type))
            description = current.description if current is not None else ""
        config = InferenceConfiguration(model_id=model.id, preset_type=preset_type, parameters=parameters,
                                        description=description)
        stored = await self.configurations.upsert(config)
        return self._view(model.id, model.base_model, preset_type, stored)

    @staticmethod
    def _view(model_id: str, base_model: str, preset_type: PresetType, stored: InferenceConfiguration | None) -> Preset:
        if stored is not None:
            return Preset(model_id=model_id, preset_type=preset_type, parameters=stored.parameters,
                          description=stored.description, source="stored", family=base_model)
        parameters, origin = built_in_preset(base_model, preset_type)
        return Preset(model_id=model_id, preset_type=preset_type, parameters=parameters, description=origin,
                      source="built-in", family=base_model)
