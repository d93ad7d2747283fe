"""Generation batches: queue images and videos for clips, run them on ComfyUI servers, land them in galleries."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.generation.service import GenerationService
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {"GenerationService": ".service"})

__all__ = ["GenerationService"]
