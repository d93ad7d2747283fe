"""The CivitAI catalog: browse the local copy, pull it from CivitAI, and import a version as a generation model.

Only ``sync`` and an import of an entry not yet synced talk to CivitAI (through ``integrations/civitai``); the
rest reads ``civitai_models``. Every write is an upsert keyed by an id (CivitAI's, or the file name for
``database_models``), so parallel and repeated syncs and imports converge on one document each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import ValidationError as PydanticValidationError

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import CivitAIError, NotFoundError
from mcp_storyboard.integrations.civitai import CivitAIClient, ModelsQuery
from mcp_storyboard.models.catalog import CivitAIModel, DatabaseModel
from mcp_storyboard.models.common import Page
from mcp_storyboard.repositories.civitai_models import CivitAIModelRepository
from mcp_storyboard.repositories.database_models import DatabaseModelRepository
from mcp_storyboard.services.civitai.mapping import (
    catalog_entry,
    database_model,
    pick_version,
)

Progress = Callable[[int, int, str], Awaitable[None]]
"""``(pages done, pages at most, message)``; the message holds counts only."""


@dataclass(frozen=True)
class SyncReport:
    """What one sync did."""

    pages: int
    fetched: int
    upserted: int
    skipped: int
    """Items CivitAI sent that could not be read (no id or name)."""
    next_cursor: str | None
    """Where CivitAI's list continues (pass back as cursor); None when the end was reached."""


async def _no_progress(done: int, total: int, message: str) -> None:
    return None


class CivitAIService:
    """The local CivitAI catalog and the client that fills it."""

    def __init__(self, database: Database, client: CivitAIClient) -> None:
        self.client = client
        self.catalog = CivitAIModelRepository(database)
        self.models = DatabaseModelRepository(database)

    async def get(self, civitai_id: int) -> CivitAIModel:
        """One synced entry.

        Raises:
            NotFoundError: not in the local catalog (sync_civitai_models or import_civitai_model fetch it).
        """
        entry = await self.catalog.find(civitai_id)
        if entry is None:
            raise NotFoundError("CivitAI model", civitai_id, hint="sync_civitai_models fetches the catalog")
        return entry

    async def search(
        self, *, text: str | None, model_type: str | None, nsfw: bool | None, limit: int, cursor: str | None
    ) -> Page[CivitAIModel]:
        """Synced entries by type then id; ``text`` matches the name or a tag as plain text."""
        return await self.catalog.page(model_type=model_type, nsfw=nsfw, text=text, limit=limit, cursor=cursor)

    async def sync(
        self, query: ModelsQuery, *, cursor: str | None = None, max_pages: int = 1, progress: Progress = _no_progress
    ) -> SyncReport:
        """Pull up to ``max_pages`` pages of ``GET /models`` from ``cursor`` and upsert each item by its id.

        Pages already stored stay stored when a later page fails: the error is raised after them, and a retry
        from the last returned cursor (or from the start) upserts the same documents again.
        """
        pages = fetched = upserted = skipped = 0
        while pages < max_pages:
            page = await self.client.models(query, cursor)
            pages += 1
            fetched += len(page.items)
            for item in page.items:
                entry = catalog_entry(item)
                if entry is None:
                    skipped += 1
                    continue
                await self.catalog.upsert(entry)
                upserted += 1
            cursor = page.next_cursor
            await progress(pages, max_pages, f"page {pages}: {upserted} models stored")
            if cursor is None:
                break
        return SyncReport(pages=pages, fetched=fetched, upserted=upserted, skipped=skipped, next_cursor=cursor)

    async def import_model(
        self, civitai_id: int, *, version_id: int | None = None, is_active: bool = True
    ) -> tuple[DatabaseModel, CivitAIModel]:
        """Create or refresh the ``database_models`` entry of one version (default: the newest) of a CivitAI model.

        The local entry is used when it lists the version; otherwise the model is fetched from CivitAI first and
        stored in the catalog.

        Raises:
            NotFoundError: CivitAI has no such model.
            ValidationError: no such version, a type generation cannot load, or a version without files.
        """
        stored = await self.catalog.find(civitai_id)
        fetched = stored is None or not _lists(stored, version_id)
        entry = await self._fetch(civitai_id) if stored is None or fetched else stored
        version = pick_version(entry, version_id)
        try:
            model = database_model(entry, version, is_active=is_active)
        except PydanticValidationError:  # e.g. a file name with control characters
            raise CivitAIError(f"CivitAI model {civitai_id} has a file name this catalog cannot store") from None
        # Stored only once the import is known to succeed: a refused import leaves the catalog as it was.
        if fetched:
            entry = await self.catalog.upsert(entry)
        return await self.models.upsert(model), entry

    async def _fetch(self, civitai_id: int) -> CivitAIModel:
        entry = catalog_entry(await self.client.model(civitai_id))
        if entry is None:
            raise CivitAIError(f"CivitAI answered model {civitai_id} without a name", hint="try again later")
        return entry


def _lists(entry: CivitAIModel, version_id: int | None) -> bool:
    if version_id is None:
        return bool(entry.model_versions)
    return any(v.get("id") == version_id for v in entry.model_versions)
