"""Projects: CRUD, cascade delete and export (``service``), the project tree (``tree``) and the Markdown
storyboard (``storyboard_markdown``)."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.projects.service import ProjectService
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {"ProjectService": ".service"})

__all__ = ["ProjectService"]
