"""Projects: CRUD, cascade delete and export (``service``), the project tree (``tree``) and the Markdown
storyboard (``storyboard_markdown``)."""

from mcp_storyboard.services.projects.service import ProjectService

__all__ = ["ProjectService"]
