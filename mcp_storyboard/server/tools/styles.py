"""Style template tools: project and library templates, applying them to clips, and the composed prompt of a clip.
Plus the completers of ``template_id`` and ``template_name`` arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.common import Page
from mcp_storyboard.models.style_templates import (
    StyleStrength,
    StyleTemplate,
    StyleTemplatePatch,
)
from mcp_storyboard.models.values import Description, Name, PageSize
from mcp_storyboard.server.confirmation import ConfirmArg
from mcp_storyboard.server.completions import MAX_COMPLETIONS, CompletionRegistry
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.resources import clip_uri, project_uris, style_template_uri
from mcp_storyboard.server.results import Written, created_fields, patched, template_written
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._args import ClipId, ProjectId, TemplateId
from mcp_storyboard.services.styles.prompt_models import ComposedClipPrompt
from mcp_storyboard.services.styles.service import (
    StyleApplication,
    StyleTemplateDeletion,
)

TOOLSET: Toolset = "styles"
tool = ToolRegistry(TOOLSET)
complete = CompletionRegistry()

PromptText = Annotated[str, Field(max_length=5000)]


class StyleTemplatePage(Page[StyleTemplate]):
    """One page of style templates, most used first; pass ``next_cursor`` back to get the next page."""


def _uris(template: StyleTemplate | StyleTemplateDeletion, clip_ids: list[str] | tuple[str, ...] = ()) -> list[str]:
    uris = [style_template_uri(template.id), *(clip_uri(c) for c in clip_ids)]
    return uris + (project_uris(template.project_id) if template.project_id is not None else [])


@tool(title="Create a style template", operation="create")
async def create_style_template(
    name: Annotated[Name, Field(description="Template name, unique in its scope ignoring case.")],
    ctx: Context,
    project_id: Annotated[
        ProjectId | None,
        Field(description="The project the template belongs to; omit for a library template offered to every "
                          "project."),
    ] = None,
    description: Annotated[Description, Field(description="What the style looks like.")] = "",
    prompt_additions: Annotated[
        PromptText, Field(description="Text appended to the positive prompt of the clips using the template.")
    ] = "",
    negative_prompt: Annotated[
        PromptText, Field(description="Comma-separated terms added to the negative prompt (duplicates dropped).")
    ] = "",
    style_strength: Annotated[
        StyleStrength,
        Field(description="0.0–1.0; below 1.0 the additions are weighted as "
                                               "(additions:strength)."),
    ] = 1.0,
) -> Written:
    """Create a style template: a project's own (with project_id) or a library template (without), for
    consistent prompts across clips. get_style_template shows it; apply_style_template uses it on a clip."""
    template = await get_services(ctx).style_templates.create(
        project_id, name, description=description, prompt_additions=prompt_additions,
        negative_prompt=negative_prompt, style_strength=style_strength,
    )  # fmt: skip
    await notify_changed(ctx, _uris(template))
    return template_written(template, created_fields(template))


@tool(title="Get a style template", operation="read")
async def get_style_template(template_id: TemplateId, ctx: Context) -> StyleTemplate:
    """One style template: prompt additions, negative prompt, strength and use count (project_id null: library)."""
    return await get_services(ctx).style_templates.get(template_id)


@tool(title="List style templates", operation="read")
async def list_style_templates(
    ctx: Context,
    project_id: Annotated[
        ProjectId | None, Field(description="The project whose templates to list; omit to list the library.")
    ] = None,
    scope: Annotated[
        Literal["all", "project", "library"],
        Field(description="all: the project's templates and the library's; project: the project's only; "
                          "library: library templates only."),
    ] = "all",
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Field(max_length=2000, description="next_cursor of the previous page.")
    ] = None,
) -> StyleTemplatePage:
    """Style templates most used first (use_count descending): the project's own and library ones, paginated."""
    page = await get_services(ctx).style_templates.list_page(project_id, scope=scope, limit=limit, cursor=cursor)
    return StyleTemplatePage(items=page.items, next_cursor=page.next_cursor)


@tool(title="Update a style template", operation="update")
async def update_style_template(
    template_id: TemplateId,
    patch: Annotated[StyleTemplatePatch, Field(description="Only the fields to change.")],
    ctx: Context,
) -> Written:
    """Change some fields of a style template in one atomic update; get_style_template shows the result. Clips
    using it pick the change up the next time their prompts are composed."""
    template = await get_services(ctx).style_templates.update(template_id, patch)
    await notify_changed(ctx, _uris(template))
    return template_written(template, patched(patch))


@tool(title="Delete a style template", operation="delete")
async def delete_style_template(
    template_id: TemplateId,
    ctx: Context,
    confirm: ConfirmArg = False,
) -> StyleTemplateDeletion:
    """Delete a style template and clear style_template_id on the clips using it; nothing else changes."""
    deletion = await get_services(ctx).style_templates.delete(template_id, confirm=confirm)
    await notify_changed(ctx, _uris(deletion, deletion.cleared_clip_ids))
    return deletion


@tool(title="Apply a style template to a clip", operation="update", idempotent=True)
async def apply_style_template(clip_id: ClipId, template_id: TemplateId, ctx: Context) -> StyleApplication:
    """Use a style template (the clip's project's or a library one) for a clip and count the use; applying the
    one it has changes nothing. Prompts are not edited; compose_clip_prompt shows the result.
    """
    application = await get_services(ctx).style_templates.apply(clip_id, template_id)
    if application.applied:
        await notify_changed(ctx, [clip_uri(clip_id), style_template_uri(template_id),
                                   *project_uris(application.project_id)])
    return application


@tool(title="Compose a clip's prompts", operation="read")
async def compose_clip_prompt(
    clip_id: ClipId,
    ctx: Context,
    base_negative_prompt: Annotated[
        str | None,
        Field(max_length=10_000, description="A negative prompt to start from (e.g. the model's default); "
                                             "template terms merge in without duplicates."),
    ] = None,
) -> ComposedClipPrompt:
    """The final positive and negative prompts of a clip's image and video generation: its own prompt, its
    character (prefix `{trigger_words} {name}, {description}. Style: {style_notes}.`, LoRA tag
    `<lora:name:weight>`) and its style template (additions, weighted below strength 1.0; negative terms).
    `parts` tells which text came from where. Nothing is stored."""
    return await get_services(ctx).style_templates.compose(clip_id, base_negative=base_negative_prompt)


async def _pairs(value: str, context: Mapping[str, str], services: Any) -> list[tuple[str, str]]:
    project_id = context.get("project_id") or None
    result: list[tuple[str, str]] = await services.style_templates.complete(project_id, value,
                                                                             limit=MAX_COMPLETIONS + 1)
    return result


@complete(argument="template_id", prompt="*")
@complete(argument="template_id", template="storyboard://style-templates/{template_id}")
async def complete_template_id(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    """Template ids (of the ``project_id`` argument's project and the library when given) whose id or name starts
    with the text, most used first."""
    return [template_id for template_id, _ in await _pairs(value, context, services)]


@complete(argument="template_name", prompt="*")
async def complete_template_name(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    """Template names (of the ``project_id`` argument's project and the library when given) starting with the
    text, most used first."""
    typed = value.casefold()
    return [name for _, name in await _pairs(value, context, services) if name.casefold().startswith(typed)]
