"""Style templates: CRUD and applying them to clips (``service``), and the prompt composition of a clip with its
character and style (``prompt_composer``, results in ``prompt_models``)."""

from mcp_storyboard.services.styles.service import StyleTemplateService

__all__ = ["StyleTemplateService"]
