"""The model catalog: catalog models with keyword search (``service``), base-model family detection and built-in
presets (``families``), and inference presets (``presets``)."""

from mcp_storyboard.services.models.service import ModelService

__all__ = ["ModelService"]
