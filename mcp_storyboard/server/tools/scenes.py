"""Scene tools: create, read, list, update, delete, nest, order, and alternate timelines.

Plus the completer of every ``scene_id`` argument (prompts and the scene resource template).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.scenes import ScenePatch
from mcp_storyboard.models.values import DisplayOrder, PageSize
from mcp_storyboard.server.confirmation import ConfirmArg
from mcp_storyboard.server.completions import MAX_COMPLETIONS, CompletionRegistry
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.results import (
    PromotedWritten,
    SceneCopy,
    SceneOutline,
    Written,
    created_fields,
    patched,
    scene_written,
)
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.services.scenes.views import (
    SceneDeletion,
    SceneFamily,
    ScenePage,
    SiblingOrder,
)
from mcp_storyboard.server.resources import scene_uris
from mcp_storyboard.server.tools._args import Id, ProjectId, SceneId

TOOLSET: Toolset = "storyboard"
tool = ToolRegistry(TOOLSET)
complete = CompletionRegistry()

ParentId = Annotated[
    Id | None, Field(description="A main scene of the same project to nest under; omit for the project's top level.")
]
Position = Annotated[
    DisplayOrder | None,
    Field(description="0-based place among the sibling scenes; omit to put it last. Later siblings shift down."),
]
SceneName = Annotated[str, Field(min_length=1, max_length=200, description="Scene name.")]
SceneDescription = Annotated[
    str, Field(max_length=2000, description="What happens in the scene.")
]
SceneLyrics = Annotated[str, Field(max_length=5000, description="Lyrics sung over the scene.")]


@tool(title="Create a scene", operation="create")
async def create_scene(
    project_id: ProjectId,
    name: SceneName,
    ctx: Context,
    description: SceneDescription = "",
    lyrics: SceneLyrics = "",
    parent_scene_id: ParentId = None,
    position: Position = None,
) -> Written:
    """Create a scene in a project, at the top level or nested under a main scene (at most 5 levels deep).

    It goes last among its siblings unless `position` is given. Returns its id and order; get_scene shows it.
    """
    scene = await get_services(ctx).scenes.create(project_id, name=name, description=description, lyrics=lyrics,
                                                  parent_scene_id=parent_scene_id, position=position)
    await notify_changed(ctx, scene_uris(project_id, [scene.id]))
    return scene_written(scene, created_fields(scene, "order"))


@tool(
    title="Get a scene",
    operation="read",
    narrow_hint="read its clips page by page with list_clips (limit, cursor) and its sub-scenes with list_scenes "
    "(parent_scene_id)",
)
async def get_scene(scene_id: SceneId, ctx: Context) -> SceneOutline:
    """One scene with its clips in order as summaries (main clips and clip alternates; get_clip shows a whole
    clip), its sub-scene ids and alternate ids."""
    return SceneOutline.of(await get_services(ctx).scenes.get_with_clips(scene_id))


@tool(title="List scenes", operation="read")
async def list_scenes(
    project_id: ProjectId,
    ctx: Context,
    parent_scene_id: Annotated[
        Id | None, Field(description="Only the direct children of this scene.")
    ] = None,
    top_level: Annotated[bool, Field(description="Only the project's top-level scenes.")] = False,
    include_alternates: Annotated[
        bool, Field(description="Also list alternate scenes (by default only the main timeline).")
    ] = False,
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Field(max_length=1024, description="next_cursor of the previous page.")
    ] = None,
) -> ScenePage:
    """Scenes of a project, sorted by order within each parent; paginated.

    Filter to one sibling list with parent_scene_id or top_level. For the nested tree with clips use
    get_project_tree; for a scene's alternates use list_alternates.
    """
    return await get_services(ctx).scenes.list_for_project(
        project_id, parent_scene_id=parent_scene_id, top_level_only=top_level,
        include_alternates=include_alternates, limit=limit, cursor=cursor,
    )


@tool(title="Update a scene", operation="update", idempotent=True)
async def update_scene(
    scene_id: SceneId,
    ctx: Context,
    name: Annotated[str | None, Field(min_length=1, max_length=200, description="New name; omit to keep.")] = None,
    description: Annotated[
        str | None, Field(max_length=2000, description="New description (\"\" clears it); omit to keep.")
    ] = None,
    lyrics: Annotated[
        str | None, Field(max_length=5000, description="New lyrics (\"\" clears them); omit to keep.")
    ] = None,
) -> Written:
    """Change a scene's name, description and/or lyrics; fields left out keep their value.

    To change its place use move_scene (new parent or position) or reorder_scenes (a whole sibling list).
    """
    given = {"name": name, "description": description, "lyrics": lyrics}
    patch = ScenePatch.model_validate({k: v for k, v in given.items() if v is not None})
    scene = await get_services(ctx).scenes.update(scene_id, patch)
    await notify_changed(ctx, scene_uris(scene.project_id, [scene.id]))
    return scene_written(scene, patched(patch))


@tool(title="Delete a scene", operation="delete")
async def delete_scene(
    scene_id: SceneId,
    ctx: Context,
    confirm: ConfirmArg = False,
) -> SceneDeletion:
    """Delete a scene with its sub-scenes (recursively), the alternates of all of them and all their clips; the
    remaining siblings are renumbered 0..n-1."""
    deletion = await get_services(ctx).scenes.delete(scene_id, confirm=confirm)
    await notify_changed(ctx, scene_uris(deletion.project_id, deletion.deleted_scene_ids))
    return deletion


@tool(title="Reorder sibling scenes", operation="update", idempotent=True)
async def reorder_scenes(
    project_id: ProjectId,
    scene_ids: Annotated[
        list[Id],
        Field(min_length=1, max_length=1000,
              description="Every main scene of the sibling list, each once, in the new order."),
    ],
    ctx: Context,
    parent_scene_id: Annotated[
        Id | None, Field(description="The parent whose sub-scenes these are; omit for the top level.")
    ] = None,
) -> SiblingOrder:
    """Set the order of all main scenes under one parent (or at the top level) at once; orders become 0..n-1.

    The list must be exactly the current siblings (alternates are not listed); otherwise nothing changes and the
    error names the missing and extra ids.
    """
    result = await get_services(ctx).scenes.reorder(project_id, scene_ids, parent_scene_id=parent_scene_id)
    await notify_changed(ctx, scene_uris(project_id, [s.id for s in result.scenes]))
    return result


@tool(title="Move a scene", operation="update", idempotent=True)
async def move_scene(
    scene_id: SceneId,
    ctx: Context,
    parent_scene_id: Annotated[
        Id | None,
        Field(description="The new parent: a main scene of the same project, not inside the moved scene."),
    ] = None,
    top_level: Annotated[bool, Field(description="true moves the scene to the project's top level.")] = False,
    position: Position = None,
) -> Written:
    """Move a main scene to a new parent (or the top level) and/or position; its sub-scenes and alternates follow.

    Without parent_scene_id or top_level the scene stays under its parent and only changes position. Old and new
    sibling lists are renumbered 0..n-1. Alternates cannot be moved on their own: move their original.
    """
    scene = await get_services(ctx).scenes.move(scene_id, parent_scene_id=parent_scene_id, to_top_level=top_level,
                                                position=position)
    await notify_changed(ctx, scene_uris(scene.project_id, [scene.id]))
    return scene_written(scene, ["parent_scene_id", "order"] if parent_scene_id is not None or top_level else ["order"])


@tool(title="Create an alternate scene", operation="create")
async def create_alternate_scene(
    scene_id: SceneId,
    ctx: Context,
    copy_clips: Annotated[
        bool, Field(description="Also copy the scene's main clips (new ids, same timing, empty galleries).")
    ] = False,
) -> SceneCopy:
    """Create an alternate timeline of a scene, named "<original name> A<n>" with a unique n.

    It copies the description and lyrics (and the clips with copy_clips: true). Given an alternate, the new one
    is another alternate of the same original. Returns its id, name and the copied clips' ids.
    """
    alternate = await get_services(ctx).scenes.create_alternate(scene_id, copy_clips=copy_clips)
    family = [alternate.id] + ([alternate.parent_scene_id] if alternate.parent_scene_id else [])
    await notify_changed(ctx, scene_uris(alternate.project_id, family))
    written = scene_written(alternate, created_fields(alternate, "order"))
    return SceneCopy(**written.model_dump(), clip_ids=[c.id for c in alternate.clips])


@tool(title="List a scene's alternates", operation="read")
async def list_alternates(scene_id: SceneId, ctx: Context) -> SceneFamily:
    """The original scene and its alternates, by number; given an alternate, the family of its original."""
    return await get_services(ctx).scenes.family(scene_id)


@tool(title="Promote an alternate scene", operation="update")
async def promote_alternate(scene_id: SceneId, ctx: Context) -> PromotedWritten:
    """Swap an alternate onto the main timeline: it takes its original's parent, position and sub-scenes; the
    former original and the other alternates become its alternates (names kept). Promoting back swaps back.
    """
    result = await get_services(ctx).scenes.promote_alternate(scene_id)
    family = [result.scene.id, *(a.id for a in result.alternates), *result.moved_sub_scene_ids]
    await notify_changed(ctx, scene_uris(result.scene.project_id, family))
    written = scene_written(result.scene, ["parent_scene_id", "order", "is_alternate"])
    return PromotedWritten(**written.model_dump(), alternate_ids=[a.id for a in result.alternates],
                           moved_sub_scene_ids=result.moved_sub_scene_ids)


@complete(argument="scene_id", prompt="*")
@complete(argument="scene_id", template="storyboard://scenes/{scene_id}")
async def scene_ids(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    """Scene ids starting with what was typed, within the already chosen project when there is one."""
    project_id = context.get("project_id") or None
    return (await services.scenes.complete_ids(value, project_id=project_id))[: MAX_COMPLETIONS + 1]
