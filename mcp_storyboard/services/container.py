"""The services container: what the server and the worker are built on.

``open_services(settings)`` connects, applies pending migrations and creates missing indexes, and yields a
``Services`` whose members are the domain services; the server layer reaches the data only through them.
The services import their packages' modules and ``repositories/``, never this module: the container sits on top.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import Database, connect
from mcp_storyboard.db.owner_scope import OwnerScope, owner_scoped_view, scoped_to
from mcp_storyboard.db.read_only import read_only_view
from mcp_storyboard.db.setup import prepare_database
from mcp_storyboard.integrations.civitai import CivitAIClient
from mcp_storyboard.integrations.media_fetch import MediaFetcher
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.services.characters import CharacterService
from mcp_storyboard.services.civitai import CivitAIService
from mcp_storyboard.services.clips import ClipService
from mcp_storyboard.services.comfyui import ComfyUIServerService
from mcp_storyboard.services.export import TimelineService
from mcp_storyboard.services.facefusion import FaceFusionService
from mcp_storyboard.services.generation import GenerationService
from mcp_storyboard.services.media import MediaService
from mcp_storyboard.services.models import ModelService
from mcp_storyboard.services.projects import ProjectService
from mcp_storyboard.services.render import RenderService
from mcp_storyboard.services.scenes import SceneService
from mcp_storyboard.services.sheets import ContactSheetService
from mcp_storyboard.services.styles import StyleTemplateService
from mcp_storyboard.services.users import UserService

if TYPE_CHECKING:
    from mcp_storyboard.db.embedded import EmbeddedServer


@dataclass(frozen=True)
class Services:
    """The domain services; each takes the shared ``Repositories``."""

    repositories: Repositories
    projects: ProjectService
    scenes: SceneService
    clips: ClipService
    characters: CharacterService
    style_templates: StyleTemplateService
    media: MediaService
    facefusion: FaceFusionService
    comfyui: ComfyUIServerService
    civitai: CivitAIService
    models: ModelService
    generation: GenerationService
    users: UserService
    timelines: TimelineService
    sheets: ContactSheetService
    renders: RenderService

    @property
    def database(self) -> Database:
        return self.repositories.database

    @classmethod
    def over(
        cls, database: Database, *, fetcher: MediaFetcher | None = None, civitai: CivitAIClient | None = None
    ) -> Services:
        """The services over ``database``; ``fetcher`` downloads for import_media (default: public addresses
        only); ``civitai`` is the CivitAI client (default: civitai.com without a key)."""
        repos = Repositories.over(database)
        media = MediaService(repos, fetcher)
        return cls(
            repositories=repos,
            projects=ProjectService(repos),
            scenes=SceneService(repos),
            clips=ClipService(repos),
            characters=CharacterService(repos),
            style_templates=StyleTemplateService(repos),
            media=media,
            facefusion=FaceFusionService(repos, media),
            comfyui=ComfyUIServerService(repos),
            civitai=CivitAIService(database, civitai or CivitAIClient()),
            models=ModelService(database),
            generation=GenerationService(repos),
            users=UserService(database),
            timelines=TimelineService(repos),
            sheets=ContactSheetService(repos),
            renders=RenderService(repos),
        )

    def owner_scoped(self) -> Services:
        """These services over :func:`owner_scoped_view`: each request bound to an ``OwnerScope`` sees only what its
        caller owns (HTTP with authentication); the same connection and media fetcher. The services of shared data
        (accounts and tokens, the model catalog, CivitAI, ComfyUI servers) are these very ones: nothing of theirs
        is scoped, and their state (a token clock, a client) stays one."""
        if self.database.owner_scoped:
            return self
        scoped = Services.over(owner_scoped_view(self.database), fetcher=self.media.fetcher)
        return replace(scoped, users=self.users, models=self.models, civitai=self.civitai, comfyui=self.comfyui)

    @asynccontextmanager
    async def acting_for(self, user_id: str) -> AsyncIterator[OwnerScope]:
        """Bind ``user_id``'s :class:`OwnerScope` (the ids of the projects it owns, read once) for the block: over
        :meth:`owner_scoped` services, it then sees and changes only what it owns."""
        owned = await self.repositories.projects.ids_owned_by(user_id)
        with scoped_to(OwnerScope(user_id, set(owned))) as scope:
            yield scope


@asynccontextmanager
async def open_services(
    settings: Settings, *, embedded: EmbeddedServer | None = None, read_only: bool = False
) -> AsyncIterator[Services]:
    """Connect, bring the database up to date (migrations, then indexes: ``db/setup.py``), and yield the
    services; disconnect on exit. ``embedded``: see :func:`mcp_storyboard.db.connection.connect`.
    ``read_only``: the services run over a view that refuses every write (``db/read_only.py``); bringing the
    schema up to date still happens first, as it does for any server on that database."""
    async with connect(settings, embedded=embedded) as database:
        await prepare_database(database)
        civitai = CivitAIClient(base_url=settings.civitai_base_url, api_key=settings.civitai_api_key)
        yield Services.over(
            read_only_view(database) if read_only else database,
            fetcher=MediaFetcher(allow_private=settings.media_allow_private), civitai=civitai,
        )
