"""Characters of a project: CRUD with unique names, and linking clips to them (``service``)."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.characters.service import CharacterService
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {"CharacterService": ".service"})

__all__ = ["CharacterService"]
