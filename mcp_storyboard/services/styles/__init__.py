"""Style templates: CRUD and applying them to clips (``service``), and the prompt composition of a clip with its
character and style (``prompt_composer``, results in ``prompt_models``)."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.styles.service import StyleTemplateService
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {"StyleTemplateService": ".service"})

__all__ = ["StyleTemplateService"]
