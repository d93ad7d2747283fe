"""The model catalog (``database_models``): create, read, change, delete, offer or withdraw, search."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.catalog import (
    BaseModelName,
    CatalogDescription,
    DatabaseModel,
    DatabaseModelPatch,
    ModelType,
    TriggerWords,
)
from mcp_storyboard.models.catalog_search import ModelFilter
from mcp_storyboard.models.common import StoryboardModel
from mcp_storyboard.models.values import PageSize, PositiveInt, Tag, Tags
from mcp_storyboard.server.confirmation import ConfirmArg
from mcp_storyboard.server.completions import MAX_COMPLETIONS, CompletionRegistry
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.results import Written, stored_values
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._model_args import Cursor, ModelIdArg
from mcp_storyboard.services.models.views import ModelPage, ModelWithPresets, model_uri

TOOLSET: Toolset = "models"
tool = ToolRegistry(TOOLSET)
complete = CompletionRegistry()


class ModelDeletion(StoryboardModel):
    id: str
    name: str


def model_written(model: DatabaseModel, fields: list[str]) -> Written:
    return Written(id=model.id, uri=model_uri(model.id), changed=stored_values(model, fields))


@tool(title="Add a model to the catalog", operation="create")
async def create_model(
    model_id: ModelIdArg,
    name: Annotated[str, Field(min_length=1, max_length=200, description="Display name.")],
    type: ModelType,
    ctx: Context,
    path: Annotated[str | None, Field(min_length=1, max_length=1024, description="File path (default: model_id).")]
    = None,
    base_model: Annotated[BaseModelName | None, Field(description="Family, e.g. SDXL, Pony (default: detected "
                                                                  "from the file name).")] = None,
    description: CatalogDescription = "",
    trigger_words: TriggerWords | None = None,
    tags: Tags | None = None,
    is_nsfw: bool = False,
    civitai_id: PositiveInt | None = None,
) -> Written:
    """Add a model file (checkpoint, LoRA, ...) to the catalog."""
    model = DatabaseModel(id=model_id, name=name, type=type, path=path or model_id, base_model=base_model or "Other",
                          description=description, trigger_words=trigger_words, tags=tags or [], is_nsfw=is_nsfw,
                          civitai_id=civitai_id)
    stored = await get_services(ctx).models.create(model)
    await notify_changed(ctx, [model_uri(stored.id)])
    changed = ["name", "type", "base_model", "path"] + [f for f in ("description", "trigger_words", "tags",
                                                                    "is_nsfw", "civitai_id") if getattr(stored, f)]
    return model_written(stored, changed)


@tool(title="Get a model", operation="read")
async def get_model(model_id: ModelIdArg, ctx: Context) -> ModelWithPresets:
    """One catalog model with its quality and speed presets."""
    return await get_services(ctx).models.details(model_id)


@tool(title="Update a model", operation="update")
async def update_model(
    model_id: ModelIdArg,
    patch: Annotated[DatabaseModelPatch, Field(description="Only the fields to change.")],
    ctx: Context,
) -> Written:
    """Change a catalog model's fields."""
    model, fields = await get_services(ctx).models.update(model_id, patch)
    await notify_changed(ctx, [model_uri(model.id)])
    return model_written(model, fields)


@tool(title="Delete a model", operation="delete")
async def delete_model(model_id: ModelIdArg, ctx: Context, confirm: ConfirmArg = False) -> ModelDeletion:
    """Remove a model and its stored presets from the catalog (the file stays)."""
    model = await get_services(ctx).models.delete(model_id)
    await notify_changed(ctx, [model_uri(model.id)])
    return ModelDeletion(id=model.id, name=model.name)


@tool(title="Offer or withdraw a model", operation="update")
async def set_model_active(model_id: ModelIdArg, active: bool, ctx: Context) -> Written:
    """Offer a model for generation (true) or withdraw it (false)."""
    model = await get_services(ctx).models.set_active(model_id, active)
    await notify_changed(ctx, [model_uri(model.id)])
    return model_written(model, ["is_active"])


@tool(title="Search models", operation="read")
async def search_models(
    ctx: Context,
    text: Annotated[str, Field(max_length=200, description="Words of the name, tags, trigger words or "
                                                           "description (prefixes match).")] = "",
    type: ModelType | None = None,
    base_model: Annotated[BaseModelName | None, Field(description="Family, e.g. SDXL, Pony, Flux.1 D.")] = None,
    active: bool | None = None,
    nsfw: bool | None = None,
    tags: Annotated[list[Tag], Field(max_length=20, description="Models having all of these tags.")] | None = None,
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Cursor = None,
) -> ModelPage:
    """Catalog models, best match first, then by name; paginated."""
    where = ModelFilter(type=type, base_model=base_model, is_active=active, is_nsfw=nsfw, tags=tuple(tags or ()))
    return await get_services(ctx).models.search(text, where, limit=limit, cursor=cursor)


@complete(argument="model_id", prompt="*")
@complete(argument="model_id", template=model_uri("{model_id}"))
async def complete_model_id(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    """Model ids starting with the text, in id order."""
    result: list[str] = await services.models.complete_ids(value, limit=MAX_COMPLETIONS + 1)
    return result


@complete(argument="model_name", prompt="*")
async def complete_model_name(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    """Model names whose words start with the words typed, by name."""
    result: list[str] = await services.models.complete_names(value, limit=MAX_COMPLETIONS + 1)
    return result
