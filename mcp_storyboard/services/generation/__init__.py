"""Generation batches: queue images and videos for clips, run them on ComfyUI servers, land them in galleries."""

from mcp_storyboard.services.generation.service import GenerationService

__all__ = ["GenerationService"]
