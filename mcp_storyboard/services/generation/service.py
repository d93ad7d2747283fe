"""Generation batches: read them (queueing, cancel and retry join this service with the generation tools)."""

from __future__ import annotations

from mcp_storyboard.errors import NotFoundError
from mcp_storyboard.models.common import Page
from mcp_storyboard.models.generation import BatchStatus, GenerationBatch
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.generation_batches import GenerationBatchRepository

BATCH_HINT = "list_generation_batches shows a project's batches"


class GenerationService:
    def __init__(self, repos: Repositories) -> None:
        self.repos = repos
        self.batches = GenerationBatchRepository(repos.database)

    async def get(self, batch_id: str) -> GenerationBatch:
        """Raises: NotFoundError."""
        batch = await self.batches.find(batch_id)
        if batch is None:
            raise NotFoundError("generation batch", batch_id, hint=BATCH_HINT)
        return batch

    async def list_page(self, project_id: str, *, status: BatchStatus | None = None, limit: int | None = None,
                        cursor: str | None = None) -> Page[GenerationBatch]:
        """A project's batches, newest first."""
        return await self.batches.page_for_project(project_id, status=status, limit=limit, cursor=cursor)
