"""Scenes: CRUD, structure and moves (``service``), alternates (``alternates``), the pure structure rules
(``rules``) and the read views (``views``)."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.scenes.service import SceneService
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {"SceneService": ".service"})

__all__ = ["SceneService"]
