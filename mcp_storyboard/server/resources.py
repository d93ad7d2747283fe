"""MCP resources: the storyboard's documents as JSON, a project as a Markdown shot list, media files as blobs with
their own MIME type, and the JSON Schema of each collection's documents.

``register_resources(server)`` registers the resource templates and the static ``storyboard://projects``. Reads
are read-only calls through the serving services (``scope.current_services()``, bound per request by
``build_server``'s middleware). Domain errors are translated here: ``NotFoundError`` answers resource-not-found
(-32602) with ``[not-found] ...``, any other ``StoryboardError`` a resource error (-32603) with its coded text;
anything else is masked by the SDK and logged. A template declares one MIME type for all its reads, so a small
middleware around ``resources/read`` puts a media file's stored type on its blob.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import ReadResourceResult

from mcp_storyboard.errors import NotFoundError, StoryboardError
from mcp_storyboard.models import DOCUMENT_CLASSES
from mcp_storyboard.models.common import ID_PATTERN, StoryboardModel
from mcp_storyboard.models.projects import Project
from mcp_storyboard.server.scope import current_services
from mcp_storyboard.services.civitai.views import civitai_model_uri
from mcp_storyboard.services.comfyui.views import ServerDetails, server_uri
from mcp_storyboard.services.facefusion.views import (
    character_facefusion_uri,
    job_uri,
    preset_uri,
)
from mcp_storyboard.services.generation.views import batch_uri
from mcp_storyboard.services.models.views import model_uri
from mcp_storyboard.services.render.views import render_job_uri
from mcp_storyboard.services.sheets import contact_sheet_uri

JSON = "application/json"
MARKDOWN = "text/markdown"
PROJECTS_URI = "storyboard://projects"
RECENT_PROJECTS = 50
_ID = re.compile(ID_PATTERN)
SCHEMAS: dict[str, type[StoryboardModel]] = {cls.collection: cls for cls in DOCUMENT_CLASSES}  # type: ignore[attr-defined]


MEDIA_BLOB_MAX_BYTES = 2 * 1024 * 1024
"""Largest media file read as a blob: its base64 (4/3 larger) stays well inside what hosts accept in one message
and put into a model's context; larger files are referenced by URI, not carried over MCP."""


def _too_large_for_a_blob(media_id: str, size: int, content_type: str) -> str:
    return (
        f"storyboard://media/{media_id} is {content_type}, {size} bytes: over the {MEDIA_BLOB_MAX_BYTES}-byte limit "
        "for reading a file over MCP. Use its URI where a tool takes media (add_clip_media, reference_images, "
        "music_media_id); list_media shows its details."
    )


def project_uri(project_id: str) -> str:
    return f"{PROJECTS_URI}/{project_id}"


def storyboard_uri(project_id: str) -> str:
    return f"{PROJECTS_URI}/{project_id}/storyboard.md"


def scene_uri(scene_id: str) -> str:
    return f"storyboard://scenes/{scene_id}"


def clip_uri(clip_id: str) -> str:
    return f"storyboard://clips/{clip_id}"


def character_uri(character_id: str) -> str:
    return f"storyboard://characters/{character_id}"


def style_template_uri(template_id: str) -> str:
    return f"storyboard://style-templates/{template_id}"


def timeline_uri(project_id: str) -> str:
    return f"{PROJECTS_URI}/{project_id}/timeline.otio"


def project_view_uris(project_id: str) -> list[str]:
    """The resources that show what a project holds (its scenes, clips, selected media, characters, music): the
    project, its shot list, its timeline and its contact sheet. A write inside a project notifies them all."""
    return [project_uri(project_id), storyboard_uri(project_id), timeline_uri(project_id), contact_sheet_uri(project_id)]


def scene_uris(project_id: str, scene_ids: Iterable[str], clip_ids: Iterable[str] = ()) -> list[str]:
    """What a change to these scenes (and clips of theirs) notifies: them, and the views of their project."""
    return [*map(clip_uri, clip_ids), *map(scene_uri, scene_ids), *project_view_uris(project_id)]


def project_uris(project_id: str) -> list[str]:
    """What to notify when anything in a project changes: the resources that show it, and the recent list."""
    return [*project_view_uris(project_id), PROJECTS_URI]


class RecentProjects(StoryboardModel):
    """The most recent projects, newest first."""

    items: list[Project]
    """Up to 50 projects, newest first (list_projects searches and pages through all of them)."""
    next_cursor: str | None
    """Pass to list_projects as cursor to continue; null when these are all the projects."""


# -- the media MIME type: set by the media reader, applied to the result by the middleware -------------------------
@dataclass
class _Read:
    mime_type: str | None = None


_current_read: ContextVar[_Read | None] = ContextVar("mcp_storyboard_resource_read", default=None)


async def _blob_mime_type(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    if ctx.method != "resources/read":
        return await call_next(ctx)
    state = _Read()
    token = _current_read.set(state)
    try:
        result = await call_next(ctx)
    finally:
        _current_read.reset(token)
    if state.mime_type is None:
        return result
    # The runner hands middleware the wire dict; a handler further in may also return the model.
    if isinstance(result, ReadResourceResult):
        contents = [c.model_copy(update={"mime_type": state.mime_type}) for c in result.contents]
        return result.model_copy(update={"contents": contents})
    if isinstance(result, dict) and isinstance(result.get("contents"), list):
        wire = [{**c, "mimeType": state.mime_type} if isinstance(c, dict) else c for c in result["contents"]]
        return {**result, "contents": wire}
    return result


@contextmanager
def _resource_errors() -> Iterator[None]:
    try:
        yield
    except NotFoundError as exc:
        raise ResourceNotFoundError(f"[{exc.code}] {exc}") from None
    except StoryboardError as exc:
        raise ResourceError(f"[{exc.code}] {exc}") from None


def _checked(kind: str, ident: str) -> str:
    """``ident`` if it could be an id; one that could not (a pattern mismatch) is simply not found."""
    if not _ID.match(ident):
        raise NotFoundError(kind, ident)
    return ident


def _dump(model: StoryboardModel) -> str:
    return model.model_dump_json(indent=2)


def register_resources(server: MCPServer[Any]) -> None:
    """Register every storyboard resource template, the static ``storyboard://projects``, and the middleware that
    gives a media blob its stored MIME type."""
    server.middleware.append(_blob_mime_type)

    @server.resource(PROJECTS_URI, name="recent_projects", title="Recent projects", mime_type=JSON)
    async def recent_projects() -> str:
        """The 50 most recent projects, newest first, as JSON (list_projects searches and pages)."""
        page = await current_services().projects.list_page(limit=RECENT_PROJECTS)
        return _dump(RecentProjects(items=page.items, next_cursor=page.next_cursor))

    @server.resource(project_uri("{project_id}"), name="project", title="Project", mime_type=JSON)
    async def project(project_id: str) -> str:
        """A project's settings as JSON (get_project_tree and the storyboard.md resource show what it holds)."""
        with _resource_errors():
            return _dump(await current_services().projects.get(_checked("project", project_id)))

    @server.resource(
        storyboard_uri("{project_id}"), name="storyboard", title="Storyboard shot list", mime_type=MARKDOWN
    )
    async def storyboard(project_id: str) -> str:
        """The project as a Markdown shot list: scenes in order with their offsets, lengths and lyrics, sub-scenes
        nested, alternates noted, and each scene's clips with timing, type, character, style, prompts and the
        selected media."""
        with _resource_errors():
            return await current_services().projects.storyboard_markdown(_checked("project", project_id))

    @server.resource(scene_uri("{scene_id}"), name="scene", title="Scene", mime_type=JSON)
    async def scene(scene_id: str) -> str:
        """A scene as JSON with its whole clips in display order, its sub-scene ids and alternate ids."""
        with _resource_errors():
            return _dump(await current_services().scenes.get_with_clips(_checked("scene", scene_id)))

    @server.resource(clip_uri("{clip_id}"), name="clip", title="Clip", mime_type=JSON)
    async def clip(clip_id: str) -> str:
        """A clip as JSON: timing, prompts, links, and its gallery of generated media."""
        with _resource_errors():
            return _dump(await current_services().repositories.clips.get(_checked("clip", clip_id)))

    @server.resource(character_uri("{character_id}"), name="character", title="Character", mime_type=JSON)
    async def character(character_id: str) -> str:
        """A character as JSON: reference images, LoRA, trigger words, style notes and FaceFusion work."""
        with _resource_errors():
            return _dump(await current_services().repositories.characters.get(_checked("character", character_id)))

    @server.resource(style_template_uri("{template_id}"), name="style_template", title="Style template", mime_type=JSON)
    async def style_template(template_id: str) -> str:
        """A style template as JSON (a project's own, or a library template when project_id is null)."""
        repos = current_services().repositories
        with _resource_errors():
            return _dump(await repos.style_templates.get(_checked("style template", template_id)))

    @server.resource(job_uri("{job_id}"), name="facefusion_job", title="FaceFusion job", mime_type=JSON)
    async def facefusion_job(job_id: str) -> str:
        """A FaceFusion job as JSON: status, progress, queue position, and per-operation results."""
        with _resource_errors():
            return _dump(await current_services().facefusion.get_job(_checked("facefusion job", job_id)))

    @server.resource(render_job_uri("{job_id}"), name="render_job", title="Render job", mime_type=JSON)
    async def render_job(job_id: str) -> str:
        """An animatic render job as JSON: status, progress, queue position and, once completed, the MP4's link."""
        with _resource_errors():
            return _dump(await current_services().renders.get_job(_checked("render job", job_id)))

    @server.resource(
        character_facefusion_uri("{character_id}"), name="character_facefusion", title="Character FaceFusion",
        mime_type=JSON,
    )
    async def character_facefusion(character_id: str) -> str:
        """A character's FaceFusion work as JSON: preferences, gallery and the newest history entries."""
        with _resource_errors():
            return _dump(await current_services().facefusion.faces.overview(_checked("character", character_id)))

    @server.resource(preset_uri("{preset_id}"), name="facefusion_preset", title="FaceFusion preset", mime_type=JSON)
    async def facefusion_preset(preset_id: str) -> str:
        """A FaceFusion preset as JSON: operation type, parameters, visibility and use count."""
        with _resource_errors():
            return _dump(await current_services().facefusion.presets.get(_checked("facefusion preset", preset_id)))

    @server.resource(
        "storyboard://media/{media_id}", name="media", title="Media file", mime_type="application/octet-stream"
    )
    async def media(media_id: str) -> bytes | str:
        """A stored media file (image, video, audio) as a blob with its own MIME type; a file over 2 MiB answers
        with its size and type as text instead."""
        store = current_services().database.media
        state = _current_read.get()
        with _resource_errors():
            info = await store.info(_checked("media", media_id))
            if info.size > MEDIA_BLOB_MAX_BYTES:
                if state is not None:
                    state.mime_type = "text/plain"
                return _too_large_for_a_blob(info.id, info.size, info.content_type)
            info, data = await store.get(info.id)
        if state is not None:
            state.mime_type = info.content_type
        return data

    @server.resource(server_uri("{server_id}"), name="comfyui_server", title="ComfyUI server", mime_type=JSON)
    async def comfyui_server(server_id: str) -> str:
        """A ComfyUI server as JSON: URL, status, last check and error, capabilities (never its credential)."""
        with _resource_errors():
            server = await current_services().comfyui.get(_checked("ComfyUI server", server_id))
            return _dump(ServerDetails.of(server))

    @server.resource(
        "storyboard://schema/{collection}", name="collection_schema", title="Collection schema", mime_type=JSON
    )
    async def collection_schema(collection: str) -> str:
        """The JSON Schema of the documents of one collection (projects, scenes, clips, characters, ...)."""
        cls = SCHEMAS.get(collection)
        if cls is None:
            raise ResourceNotFoundError(
                f"[not-found] collection '{collection}' does not exist. Collections: {', '.join(sorted(SCHEMAS))}"
            )
        return json.dumps(cls.model_json_schema(), indent=2)

    # -- CivitAI catalog ------------------------------------------------------------------------------------------
    @server.resource(
        civitai_model_uri("{civitai_id}"), name="civitai_model", title="CivitAI model", mime_type=JSON
    )
    async def civitai_model(civitai_id: str) -> str:
        """A synced CivitAI catalog entry as JSON: tags, stats, creator and every version with files and images."""
        with _resource_errors():
            if not civitai_id.isdigit() or len(civitai_id) > 18:
                raise NotFoundError("CivitAI model", civitai_id)
            return _dump(await current_services().civitai.get(int(civitai_id)))
    # -- models toolset -----------------------------------------------------------------------------------------
    @server.resource(model_uri("{model_id}"), name="model", title="Catalog model", mime_type=JSON)
    async def model(model_id: str) -> str:
        """A catalog model as JSON with its quality and speed inference presets (stored or built-in)."""
        with _resource_errors():
            return _dump(await current_services().models.details(unquote(model_id)))
    # -- timeline export --------------------------------------------------------------------------------------
    @server.resource(
        timeline_uri("{project_id}"), name="timeline_otio", title="Timeline (OpenTimelineIO)",
        mime_type=JSON,
    )
    async def timeline_otio(project_id: str) -> str:
        """The project's main timeline as OpenTimelineIO JSON at 24 fps, rendered on read: clips with gaps, scenes as
        markers, alternates on disabled tracks, music (export_timeline writes other formats and rates)."""
        with _resource_errors():
            return await current_services().timelines.otio_text(_checked("project", project_id))

    # -- contact sheets -----------------------------------------------------------------------------------------
    @server.resource(
        contact_sheet_uri("{project_id}"), name="contact_sheet", title="Contact sheet", mime_type="image/png"
    )
    async def contact_sheet(project_id: str) -> bytes:
        """Page 1 of the project's contact sheet as a PNG (default layout), rendered on read and never stored;
        render_contact_sheet stores pages and chooses the layout."""
        from mcp_storyboard.services.sheets import SheetOptions  # with the services: not to start the server

        with _resource_errors():
            page = await current_services().sheets.render(_checked("project", project_id), SheetOptions())
        return page.png

    # -- generation batches ---------------------------------------------------------------------------------------
    @server.resource(batch_uri("{batch_id}"), name="generation_batch", title="Generation batch", mime_type=JSON)
    async def generation_batch(batch_id: str) -> str:
        """A generation batch as JSON: status, counters, and each clip's status, prompt, parameters and result."""
        with _resource_errors():
            return _dump(await current_services().generation.view(_checked("generation batch", batch_id)))
