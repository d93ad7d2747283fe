"""Characters of a project: CRUD with unique names, and linking clips to them (``service``)."""

from mcp_storyboard.services.characters.service import CharacterService

__all__ = ["CharacterService"]
