"""Project tools: create, read, list, patch and delete projects, and the whole project as one tree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.common import Page
from mcp_storyboard.models.projects import MusicDuration, Project, ProjectPatch
from mcp_storyboard.models.values import NOT_BOOL, Description, MediaUrl, Name, PageSize
from mcp_storyboard.server.auth import caller_id
from mcp_storyboard.server.confirmation import ConfirmArg
from mcp_storyboard.server.completions import MAX_COMPLETIONS, CompletionRegistry
from mcp_storyboard.server.errors import RESULT_LIMIT_BYTES
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.resources import project_uris
from mcp_storyboard.server.results import Written, created_fields, patched, project_written
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._args import Id, ProjectId
from mcp_storyboard.services.projects.service import ProjectDeletion
from mcp_storyboard.services.projects.tree import ProjectTree, TreeOptions

TOOLSET: Toolset = "storyboard"
tool = ToolRegistry(TOOLSET)
complete = CompletionRegistry()

SceneId = Annotated[Id, Field(description="A scene id of the project.")]
MediaId = Annotated[Id, Field(description="A media-store id (storyboard://media/{id}).")]


class ProjectPage(Page[Project]):
    """One page of projects, newest first; pass ``next_cursor`` back to get the next page."""


@tool(title="Create a project", operation="create")
async def create_project(
    name: Annotated[Name, Field(description="Project name.")],
    ctx: Context,
    description: Annotated[
        Description, Field(description="What the storyboard is about.")
    ] = "",
    thumbnail_url: Annotated[
        MediaUrl | None, Field(description="Thumbnail: http(s) URL, storyboard://media/<id> or a relative path.")
    ] = None,
    music_media_id: Annotated[MediaId | None, Field(description="The soundtrack's id in the media store.")] = None,
    music_duration: Annotated[
        MusicDuration | None, Field(description="Soundtrack length in seconds.")
    ] = None,
) -> Written:
    """Create a storyboard project (the container of scenes, clips, characters and style templates).

    Returns its id; get_project shows it. Next: add scenes with create_scene, or plan the whole storyboard with
    the plan_storyboard prompt.
    """
    project = await get_services(ctx).projects.create(
        name, description=description, thumbnail_url=thumbnail_url, music_media_id=music_media_id,
        music_duration=music_duration, owner_id=caller_id(),
    )  # fmt: skip
    await notify_changed(ctx, project_uris(project.id))
    return project_written(project, created_fields(project))


@tool(title="Get a project", operation="read")
async def get_project(project_id: ProjectId, ctx: Context) -> Project:
    """One project's settings by id. get_project_tree shows what it holds."""
    return await get_services(ctx).projects.get(project_id)


@tool(title="List projects", operation="read")
async def list_projects(
    ctx: Context,
    name_contains: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=200,
            description="Only names containing this text (any case).",
        ),
    ] = None,
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Field(max_length=2000, description="next_cursor of the previous page.")
    ] = None,
) -> ProjectPage:
    """Projects, newest first, optionally filtered by name; paginated with cursor and limit."""
    page = await get_services(ctx).projects.list_page(name_contains=name_contains, limit=limit, cursor=cursor)
    return ProjectPage(items=page.items, next_cursor=page.next_cursor)


@tool(title="Update a project", operation="update")
async def update_project(
    project_id: ProjectId,
    patch: Annotated[
        ProjectPatch,
        Field(
            description="Only the fields to change; null clears an optional field "
            "(thumbnail_url, music_media_id, music_duration)."
        ),
    ],
    ctx: Context,
) -> Written:
    """Change some fields of a project in one atomic update; fields left out keep their values.
    get_project shows the result."""
    project = await get_services(ctx).projects.update(project_id, patch)
    await notify_changed(ctx, project_uris(project.id))
    return project_written(project, patched(patch))


@tool(title="Delete a project", operation="delete")
async def delete_project(
    project_id: ProjectId,
    ctx: Context,
    confirm: ConfirmArg = False,
) -> ProjectDeletion:
    """Delete a project and everything under it: scenes, clips, characters, its own style templates (library
    templates stay), its media files and its FaceFusion jobs and generation batches."""
    deletion = await get_services(ctx).projects.delete(project_id, confirm=confirm)
    await notify_changed(ctx, project_uris(project_id))
    return deletion


@tool(title="Get the project tree", operation="read",
      narrow_hint="call it again with max_clips_per_scene, include_clips=false or scene_id")
async def get_project_tree(
    project_id: ProjectId,
    ctx: Context,
    scene_id: Annotated[
        SceneId | None, Field(description="List only this scene's subtree (its clips, sub-scenes and alternates).")
    ] = None,
    include_clips: Annotated[bool, Field(description="false lists scenes only (clip counts stay).")] = True,
    max_clips_per_scene: Annotated[
        Annotated[int, Field(ge=0, le=10_000), NOT_BOOL] | None,
        Field(
            description="At most this many clips per scene (the rest counted in clips_omitted).",
        ),
    ] = None,
) -> ProjectTree:
    """The whole project in one call: scenes in order, sub-scenes and alternates nested, each scene's start and
    length on the project timeline, and clip summaries in order.

    For a very large project narrow it with max_clips_per_scene, include_clips=false or scene_id.
    """
    options = TreeOptions(scene_id=scene_id, include_clips=include_clips, max_clips_per_scene=max_clips_per_scene)
    # A little under the cap: the refusal carries a hint that fits, rather than the generic one.
    return await get_services(ctx).projects.tree(project_id, options, max_bytes=RESULT_LIMIT_BYTES - 1024)


@complete(argument="project_id", prompt="*")
@complete(argument="project_id", template="*")
async def complete_project_id(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    """Project ids: those starting with what was typed, then those of projects whose name contains it."""
    return await services.projects.complete_ids(value, limit=MAX_COMPLETIONS + 1)
