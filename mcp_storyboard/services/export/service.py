"""Timeline export and import: a project (or a scene) to an OTIO, EDL, FCP XML or FCPX XML file in the media store,
and such a file back into a new project.

The files are written and read by OpenTimelineIO and its adapter packages; ``formats.FORMATS`` says what each one
keeps, and the export result tells the user what the chosen format loses.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from pydantic import Field

from mcp_storyboard.db.media import media_uri
from mcp_storyboard.errors import InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.lazy_import import lazy_module
from mcp_storyboard.models.common import StoryboardModel
from mcp_storyboard.models.values import Integer
from mcp_storyboard.services.export.build import TimelineInput, build_timeline
from mcp_storyboard.services.export.formats import EXTENSIONS, FORMATS, TimelineFormat
from mcp_storyboard.services.export.importer import ImportedProject, write_plan
from mcp_storyboard.services.export.read import read_timeline
from mcp_storyboard.services.export.timing import FRAME_RATES, FrameRate
from mcp_storyboard.services.media.service import decode_base64

if TYPE_CHECKING:
    import opentimelineio as otio  # type: ignore[import-untyped]  # ships no type information

    from mcp_storyboard.repositories.bundle import Repositories
else:
    otio = lazy_module("opentimelineio")  # imported on first use: not needed to start the server

INLINE_TEXT_BYTES = 4000
"""An EDL up to this size comes back in the result as text too."""
SHOWN_ROUNDED = 20
IMPORT_MAX_BYTES = 3_000_000


class ExportedTimeline(StoryboardModel):
    """A timeline file written to the media store."""

    id: str
    """Media id of the file."""
    uri: str
    """``storyboard://media/{id}``."""
    format: TimelineFormat
    frame_rate: str
    clip_count: Integer
    duration: float
    """Seconds of the video track."""
    loses: str
    """What this format drops (see the tool description)."""
    rounded: list[str]
    """Clips whose start or end moved to the nearest frame (the first 20)."""
    rounded_count: Integer
    text: str | None = Field(default=None, exclude_if=lambda value: value is None)
    """The EDL itself, when it is small (left out otherwise)."""

    def resource_links(self) -> list[tuple[str, str]]:
        """The file, which the tool result links to as a resource."""
        return [(self.uri, f"{self.format} timeline")]


class TimelineService:
    """Export a project's timeline to a file, and import one as a new project."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos

    async def load(self, project_id: str, scene_id: str | None = None) -> TimelineInput:
        """A project's documents, or those of one of its scenes and everything under it.

        Raises:
            NotFoundError: no such project, or the scene is not in it.
        """
        repos = self.repos
        project = await repos.projects.find(project_id)
        if project is None:
            raise NotFoundError("project", project_id, hint="list_projects shows the projects")
        scenes = await repos.scenes.list_for_project(project_id)
        if scene_id is not None and scene_id not in {s.id for s in scenes}:
            raise NotFoundError("scene", scene_id, hint=f"it is not in project {project_id}; get_project_tree lists its scenes")
        clips = await repos.clips.list_for_project(project_id)
        characters = {c.id: c.name for c in await repos.characters.list_for_project(project_id)}
        return TimelineInput(project, scenes, clips, characters, root_scene_id=scene_id)

    async def render(
        self, data: TimelineInput, fmt: TimelineFormat, rate_name: str, *, include_alternates: bool = True,
        allow_empty: bool = False,
    ) -> tuple[str, ExportedTimeline]:
        """The file's text and what the export result says about it (``id``/``uri`` still empty).

        Raises:
            ValidationError: ``frame_rate`` the format's writer cannot write; nothing to export (no clips).
        """
        capabilities = FORMATS[fmt]
        rate = FrameRate.named(rate_name)
        if rate.is_ntsc and not capabilities.ntsc_rates:
            allowed = [name for name, value in FRAME_RATES.items() if value.denominator == 1]
            raise ValidationError("frame_rate", f"{fmt} cannot be written at {rate_name} (its writer fails at NTSC rates)",
                                  allowed=allowed, hint="choose fcp_xml or otio for NTSC rates")
        built = build_timeline(data, rate, include_alternates=include_alternates and capabilities.keeps_alternates)
        if built.clip_count == 0 and not allow_empty:
            raise InvalidStateError("there is nothing to export: no clip on the main timeline",
                                    hint="add clips (create_clip) or export another scene")
        text = otio.adapters.write_to_string(built.timeline, capabilities.adapter)
        result = ExportedTimeline(
            id="", uri="", format=fmt, frame_rate=rate_name, clip_count=built.clip_count,
            duration=rate.seconds(built.frames), loses=capabilities.loses, rounded=built.rounded[:SHOWN_ROUNDED],
            rounded_count=len(built.rounded),
            text=text if fmt == "edl" and len(text.encode()) <= INLINE_TEXT_BYTES else None,
        )  # fmt: skip
        return text, result

    async def otio_text(self, project_id: str) -> str:
        """The project's whole timeline as OpenTimelineIO JSON at 24 fps, alternates included, rendered now (an
        empty project gives an empty timeline).

        Raises:
            NotFoundError: no such project.
        """
        text, _ = await self.render(await self.load(project_id), "otio", "24", allow_empty=True)
        return text

    async def export(
        self, project_id: str, fmt: TimelineFormat, rate_name: str = "24", *, scene_id: str | None = None,
        include_alternates: bool = True,
    ) -> ExportedTimeline:
        """Write the timeline file and store it in the project's media.

        Raises:
            NotFoundError: no such project or scene.
            ValidationError / InvalidStateError: see :meth:`render`.
        """
        data = await self.load(project_id, scene_id)
        text, result = await self.render(data, fmt, rate_name, include_alternates=include_alternates)
        capabilities = FORMATS[fmt]
        base = _safe_name(data.project.name if scene_id is None else next(s.name for s in data.scenes if s.id == scene_id))
        info = await self.repos.database.media.put(
            text.encode(), content_type=capabilities.mime_type, filename=base + capabilities.extension,
            project_id=project_id, metadata={"timeline_format": fmt, "frame_rate": rate_name},
        )  # fmt: skip
        if await self.repos.projects.find(project_id) is None:  # deleted meanwhile: leave no orphan
            await self.repos.database.media.delete(info.id)
            raise NotFoundError("project", project_id, hint="it was deleted while the file was stored")
        return result.model_copy(update={"id": info.id, "uri": media_uri(info.id)})

    async def import_file(
        self, *, media_id: str | None = None, filename: str | None = None, content_base64: str | None = None,
        name: str | None = None, rate_name: str | None = None, owner_id: str | None = None,
    ) -> ImportedProject:
        """A new project, owned by ``owner_id``, from a timeline file (a stored file, or an upload with its name).

        Raises:
            ValidationError: neither or both sources given; an unknown extension; a file the adapter cannot read
                (field ``file``); times beyond what a clip may hold.
            NotFoundError: no such media file.
        """
        if (media_id is None) == (content_base64 is None):
            raise ValidationError("media_id", "give media_id or content_base64 (with filename), not both or neither",
                                  hint="export_timeline returns a media id; or upload the file's bytes")
        if media_id is not None:
            try:
                info, data = await self.repos.database.media.get(media_id)
            except NotFoundError:
                raise NotFoundError("media", media_id, hint="list_media shows a project's files") from None
            filename = info.filename
        else:
            if not filename:
                raise ValidationError("filename", "is required with content_base64", allowed=sorted(EXTENSIONS))
            data = decode_base64(content_base64 or "", IMPORT_MAX_BYTES)
        assert filename is not None
        fmt = _format_of(filename, "media_id" if media_id is not None else "filename")
        capabilities = FORMATS[fmt]
        rate = FrameRate.named(rate_name) if rate_name else None
        try:
            text = data.decode("utf-8-sig")
            kwargs = {"rate": (rate or FrameRate.named("24")).otio_rate} if fmt == "edl" else {}
            timeline = otio.adapters.read_from_string(text, capabilities.adapter, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the adapters raise many kinds; the user needs the file named
            raise ValidationError("file", f"could not be read as {fmt}: {str(exc)[:200]}",
                                  hint=f"check it is a {capabilities.extension} file") from None
        if not isinstance(timeline, otio.schema.Timeline):
            raise ValidationError("file", f"holds a {type(timeline).__name__}, not a timeline")
        candidates = (name, timeline.name, posixpath.splitext(filename)[0], "Imported timeline")
        title = next(c.strip() for c in candidates if c and c.strip())
        plan = read_timeline(timeline, rate=rate if fmt == "edl" else None, name=title[:200],
                             keeps_alternates=capabilities.keeps_alternates)
        return await write_plan(self.repos, plan, fmt, owner_id=owner_id)


def _format_of(filename: str, field: str) -> TimelineFormat:
    suffix = posixpath.splitext(filename.lower())[1]
    if suffix not in EXTENSIONS:
        raise ValidationError(field, f"'{filename}' is not a timeline file", allowed=sorted(EXTENSIONS))
    return EXTENSIONS[suffix]


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_ " else "_" for c in name).strip()[:100] or "timeline"
