"""CivitAI: browse the local catalog, sync it from CivitAI, import a version as a generation model."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.integrations.civitai import CivitAIModelType, ModelsQuery
from mcp_storyboard.models.catalog import ModelType
from mcp_storyboard.models.common import Page, StoryboardModel
from mcp_storyboard.models.values import NOT_BOOL, PageSize, PositiveInt
from mcp_storyboard.server.client_log import report_progress
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.services.civitai.views import CivitAISummary, civitai_model_uri
from mcp_storyboard.services.models.views import model_uri

TOOLSET: Toolset = "models"
tool = ToolRegistry(TOOLSET)

Sort = Literal["Highest Rated", "Most Downloaded", "Newest"]
Text = Annotated[str, Field(min_length=1, max_length=200)]
CivitAIId = Annotated[PositiveInt, Field(description="CivitAI model id.")]


class CivitAIPage(Page[CivitAISummary]):
    """One page of the local CivitAI catalog by type then id."""


class SyncResult(StoryboardModel):
    pages: int
    fetched: int
    stored: int
    skipped: int
    next_civitai_cursor: str | None
    """Pass back as civitai_cursor to continue; null at the end of CivitAI's list."""


class Imported(StoryboardModel):
    id: str
    uri: str
    civitai_id: int
    version_id: int | None
    type: ModelType
    base_model: str
    trigger_words: str | None


@tool(title="Search the CivitAI catalog", operation="read")
async def search_civitai_catalog(
    ctx: Context,
    text: Annotated[Text | None, Field(description="Plain text in the name or a tag.")] = None,
    type: CivitAIModelType | None = None,
    nsfw: Annotated[bool | None, Field(description="false: SFW only; true: NSFW only; null: both.")] = False,
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Annotated[str | None, Field(max_length=2000, description="next_cursor of the previous page.")] = None,
) -> CivitAIPage:
    """Search CivitAI models synced into the local catalog (no network)."""
    page = await get_services(ctx).civitai.search(text=text, model_type=type, nsfw=nsfw, limit=limit, cursor=cursor)
    return CivitAIPage(items=[CivitAISummary.of(e) for e in page.items], next_cursor=page.next_cursor)


@tool(title="Sync models from CivitAI", operation="external", idempotent=True)
async def sync_civitai_models(
    ctx: Context,
    query: Annotated[Text | None, Field(description="CivitAI full-text search.")] = None,
    types: Annotated[list[CivitAIModelType], Field(max_length=16)] = [],  # noqa: B006  # pydantic copies defaults
    base_models: Annotated[list[Text], Field(max_length=20, description='CivitAI names, e.g. "SDXL 1.0".')] = [],  # noqa: B006
    tag: Text | None = None,
    nsfw: bool = False,
    sort: Sort | None = None,
    per_page: PageSize = 100,
    max_pages: Annotated[int, Field(ge=1, le=20), NOT_BOOL] = 1,
    civitai_cursor: Annotated[str | None, Field(min_length=1, max_length=2000, description="Resume here.")] = None,
) -> SyncResult:
    """Pull models from CivitAI into the local catalog (upsert by id), following its cursors."""

    async def progress(done: int, total: int, message: str) -> None:
        await report_progress(ctx, done, total, message)

    search = ModelsQuery(query=query, types=types, base_models=base_models, tag=tag, nsfw=nsfw, sort=sort,
                         limit=per_page)  # fmt: skip
    report = await get_services(ctx).civitai.sync(search, cursor=civitai_cursor, max_pages=max_pages, progress=progress)
    return SyncResult(pages=report.pages, fetched=report.fetched, stored=report.upserted, skipped=report.skipped,
                      next_civitai_cursor=report.next_cursor)  # fmt: skip


@tool(title="Import a CivitAI model", operation="external", idempotent=True)
async def import_civitai_model(
    civitai_id: CivitAIId,
    ctx: Context,
    version_id: Annotated[PositiveInt | None, Field(description="Default: the newest version.")] = None,
    is_active: bool = True,
) -> Imported:
    """Create or refresh the catalog model of a CivitAI model version (file, base model, trigger words, tags)."""
    model, entry = await get_services(ctx).civitai.import_model(civitai_id, version_id=version_id, is_active=is_active)
    await notify_changed(ctx, [model_uri(model.id), civitai_model_uri(entry.id)])
    version = version_id or (entry.model_versions[0].get("id") if entry.model_versions else None)
    return Imported(id=model.id, uri=model_uri(model.id), civitai_id=entry.id,
                    version_id=version if isinstance(version, int) else None, type=model.type,
                    base_model=model.base_model, trigger_words=model.trigger_words)  # fmt: skip
