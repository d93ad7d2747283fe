"""Scenes: CRUD, structure and moves (``service``), alternates (``alternates``), the pure structure rules
(``rules``) and the read views (``views``)."""

from mcp_storyboard.services.scenes.service import SceneService

__all__ = ["SceneService"]
