"""Character tools: a project's recurring characters (reference images, LoRA, trigger words, style notes), and
linking clips to them. Plus the completers of ``character_id`` and ``character_name`` arguments.

Prompts are composed at generation time (``compose_clip_prompt`` previews them); no tool here edits a prompt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.characters import CharacterChanges, Lora, ReferenceImages, TriggerWords
from mcp_storyboard.models.values import Description, Name, PageSize
from mcp_storyboard.server.confirmation import ConfirmArg
from mcp_storyboard.server.completions import MAX_COMPLETIONS, CompletionRegistry
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.resources import character_uri, clip_uri, project_uris
from mcp_storyboard.server.results import CharacterView, Written, character_written, patched
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._args import CharacterId, ClipId, ProjectId
from mcp_storyboard.services.characters.service import (
    CharacterAssignment,
    CharacterDeletion,
    CharacterPage,
)

TOOLSET: Toolset = "characters"
tool = ToolRegistry(TOOLSET)
complete = CompletionRegistry()



def _uris(project_id: str, character_id: str, clip_ids: list[str] | tuple[str, ...] = ()) -> list[str]:
    return [character_uri(character_id), *(clip_uri(c) for c in clip_ids), *project_uris(project_id)]


@tool(title="Create a character", operation="create")
async def create_character(
    project_id: ProjectId,
    name: Annotated[Name, Field(description="Character name, unique in the project ignoring case.")],
    ctx: Context,
    description: Annotated[
        Description, Field(description="Who the character is and how they look.")
    ] = "",
    reference_images: Annotated[
        ReferenceImages,
        Field(description="Reference image URLs (http(s), storyboard://media/<id> or relative paths)."),
    ] = [],  # noqa: B006  (pydantic copies defaults; the schema shows [])
    lora: Annotated[
        Lora | None, Field(description="LoRA of the character: `name` or `name:weight` (weight 1.0 by default).")
    ] = None,
    trigger_words: Annotated[
        TriggerWords | None, Field(description="Words that trigger the LoRA; composed prompts start with them.")
    ] = None,
    style_notes: Annotated[
        Description | None, Field(description="Style and appearance notes (wardrobe, palette, rendering).")
    ] = None,
) -> Written:
    """Create a recurring character in a project, for consistent generation across clips.

    Composed prompts of the clips assigned to it start with
    `{trigger_words} {name}, {description}. Style: {style_notes}.` and carry its LoRA.
    get_character shows it; assign_character links clips to it.
    """
    created = await get_services(ctx).characters.create(
        project_id, name, description=description, reference_images=reference_images, lora=lora,
        trigger_words=trigger_words, style_notes=style_notes,
    )  # fmt: skip
    await notify_changed(ctx, _uris(project_id, created.id))
    given = {"description": description, "reference_images": reference_images, "lora": lora,
             "trigger_words": trigger_words, "style_notes": style_notes}
    return character_written(created, ["name", *(k for k, v in given.items() if v)])


@tool(title="Get a character", operation="read")
async def get_character(character_id: CharacterId, ctx: Context) -> CharacterView:
    """One character, how many clips use it, and its FaceFusion work (history count, preferred settings — the
    defaults when none were chosen — and output gallery)."""
    return CharacterView.of(await get_services(ctx).characters.get(character_id))


@tool(title="List characters", operation="read")
async def list_characters(
    project_id: ProjectId,
    ctx: Context,
    name_contains: Annotated[
        str | None,
        Field(min_length=1, max_length=200,
              description="Only names containing this text (any case)."),
    ] = None,
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Field(max_length=2000, description="next_cursor of the previous page.")
    ] = None,
) -> CharacterPage:
    """A project's characters by name (without their FaceFusion work; get_character shows it), paginated."""
    return await get_services(ctx).characters.list_page(project_id, name_contains=name_contains, limit=limit,
                                                        cursor=cursor)


@tool(title="Update a character", operation="update")
async def update_character(
    character_id: CharacterId,
    patch: Annotated[
        CharacterChanges,
        Field(description="Only the fields to change; null clears lora, trigger_words or style_notes."),
    ],
    ctx: Context,
) -> Written:
    """Change some fields of a character in one atomic update; get_character shows the result. Clips assigned to
    it pick the change up the next time their prompts are composed; no stored prompt is edited."""
    updated = await get_services(ctx).characters.update(character_id, patch)
    await notify_changed(ctx, _uris(updated.project_id, character_id))
    return character_written(updated, patched(patch))


@tool(title="Delete a character", operation="delete")
async def delete_character(
    character_id: CharacterId,
    ctx: Context,
    confirm: ConfirmArg = False,
) -> CharacterDeletion:
    """Delete a character and clear character_id on every clip assigned to it; nothing else changes (prompts,
    other clips and characters stay as they are)."""
    deletion = await get_services(ctx).characters.delete(character_id, confirm=confirm)
    await notify_changed(ctx, _uris(deletion.project_id, character_id, deletion.cleared_clip_ids))
    return deletion


@tool(title="Assign a character to a clip", operation="update", idempotent=True)
async def assign_character(
    clip_id: ClipId,
    character_id: Annotated[
        CharacterId | None,
        Field(description="A character of the clip's own project; null removes the clip's character."),
    ],
    ctx: Context,
) -> CharacterAssignment:
    """Link a clip to a character of the same project (null unlinks it); calling it again changes nothing.
    Prompts are not edited: the character is composed in at generation time (see compose_clip_prompt).
    """
    assignment = await get_services(ctx).characters.assign(clip_id, character_id)
    if assignment.changed:
        await notify_changed(ctx, [clip_uri(clip_id), *project_uris(assignment.project_id)])
    return assignment


@complete(argument="character_id", prompt="*")
@complete(argument="character_id", template="storyboard://characters/{character_id}")
async def complete_character_id(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    """Character ids (of the ``project_id`` argument's project when given) whose id or name starts with the text."""
    pairs = await services.characters.complete(context.get("project_id") or None, value, limit=MAX_COMPLETIONS + 1)
    return [character_id for character_id, _ in pairs]


@complete(argument="character_name", prompt="*")
async def complete_character_name(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    """Character names (of the ``project_id`` argument's project when given) starting with the text."""
    pairs = await services.characters.complete(context.get("project_id") or None, value, limit=MAX_COMPLETIONS + 1)
    typed = value.casefold()
    return [name for _, name in pairs if name.casefold().startswith(typed)]
