"""``Repositories``: every repository over one database, the one object the services share.

It lives here, below the services, so that a service names its dependencies without importing the container
that builds the services (``services/container.py``), which would close an import circle.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp_storyboard.db.connection import Database
from mcp_storyboard.repositories.characters import CharacterRepository
from mcp_storyboard.repositories.clips import ClipRepository
from mcp_storyboard.repositories.counters import CounterRepository
from mcp_storyboard.repositories.projects import ProjectRepository
from mcp_storyboard.repositories.scenes import SceneRepository
from mcp_storyboard.repositories.style_templates import StyleTemplateRepository


@dataclass(frozen=True)
class Repositories:
    """Every repository over one database, shared by the services."""

    database: Database
    projects: ProjectRepository
    scenes: SceneRepository
    clips: ClipRepository
    characters: CharacterRepository
    style_templates: StyleTemplateRepository
    counters: CounterRepository

    @classmethod
    def over(cls, database: Database) -> Repositories:
        return cls(
            database=database,
            projects=ProjectRepository(database),
            scenes=SceneRepository(database),
            clips=ClipRepository(database),
            characters=CharacterRepository(database),
            style_templates=StyleTemplateRepository(database),
            counters=CounterRepository(database),
        )
