"""An import plan written as a new project: the project, its scenes, clips and gallery entries in one transaction
where the backend has them; without transactions a failure deletes what was written, so no half-imported project
remains either way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import anyio
import pydantic

from mcp_storyboard.models.media import media_id_of
from mcp_storyboard.errors import StoryboardError, ValidationError
from mcp_storyboard.models.clip_outline import STATS_FIELDS, SceneClipStats
from mcp_storyboard.models.clips import (
    TIMELINE_MAX_SECONDS,
    Clip,
    ClipType,
    GeneratedMedia,
)
from mcp_storyboard.models.common import StoryboardModel
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.models.values import Integer
from mcp_storyboard.services.export.formats import FORMATS, TimelineFormat
from mcp_storyboard.services.export.read import ImportPlan, PlannedClip, PlannedScene

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories

_LOOKUPS = 16
_VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".m4v", ".avi")


class ImportedProject(StoryboardModel):
    """The project an import created."""

    id: str
    """The new project's id."""
    uri: str
    """``storyboard://projects/{id}``."""
    format: TimelineFormat
    frame_rate: str
    scene_count: Integer
    clip_count: Integer
    media_count: Integer
    """Gallery entries made from the clips' media references."""
    loses: str
    """What this format cannot carry (scenes, metadata or alternates may be missing)."""

    def resource_links(self) -> list[tuple[str, str]]:
        """The new project, which the tool result links to as a resource."""
        return [(self.uri, "imported project")]


class _Documents:
    def __init__(self, plan: ImportPlan, stored: set[str]) -> None:
        self.plan = plan
        self.stored = stored
        music_id = media_id_of(plan.music_url)
        music_id = music_id if music_id in stored else None
        # Set together: a length without the file it measures (music outside the media store) would mislead.
        self.project = Project(name=plan.name, music_media_id=music_id,
                               music_duration=plan.music_seconds if music_id else None)
        self.scenes: list[Scene] = []
        self.clips: list[Clip] = []
        self.ids: dict[int, str] = {}
        self.media = 0

    def build(self) -> None:
        by_path: dict[tuple[str, ...], Scene] = {}
        siblings: dict[str | None, int] = {}
        alternates: dict[str, int] = {}
        for planned in self.plan.scenes:
            if planned.alternate_of is not None:
                parent = by_path[planned.alternate_of.path]
                number = int(planned.details.get("alternate_number") or 0) or alternates.get(parent.id, 0) + 1
                alternates[parent.id] = max(number, alternates.get(parent.id, 0))
                scene = Scene(project_id=self.project.id, name=str(planned.details.get("name") or parent.name)[:200],
                              parent_scene_id=parent.id, is_alternate=True, alternate_number=number, order=0)
            else:
                parent_id = by_path[planned.path[:-1]].id if len(planned.path) > 1 else None
                order = siblings.get(parent_id, 0)
                siblings[parent_id] = order + 1
                scene = Scene(project_id=self.project.id, name=planned.path[-1], parent_scene_id=parent_id, order=order,
                              description=_text(planned.details.get("description"), 2000),
                              lyrics=_text(planned.details.get("lyrics"), 5000))
            by_path[planned.path] = scene
            self.scenes.append(scene)
            self._clips(planned, scene)

    def _clips(self, planned: PlannedScene, scene: Scene) -> None:
        originals = [c for c in planned.clips if c.alternate_of is None]
        order = 0
        for original in sorted(originals, key=lambda c: c.start):
            self._clip(original, scene, order)
            main, order = self.clips[-1], order + 1
            for number, alternate in enumerate((c for c in planned.clips if c.alternate_of is original), 1):
                self._clip(alternate, scene, order, original=main, number=number)
                order += 1

    def _clip(self, planned: PlannedClip, scene: Scene, order: int, *, original: Clip | None = None, number: int = 0) -> None:
        rate, details = self.plan.rate, planned.details
        position, duration = rate.seconds(planned.start), max(rate.seconds(planned.frames), 0.01)
        if position + duration > TIMELINE_MAX_SECONDS or position < 0:
            raise ValidationError("file", f"clip '{planned.name}' ends at {position + duration:.2f} s in its scene, "
                                  f"past the {TIMELINE_MAX_SECONDS:.0f}-second limit", hint="split the timeline")
        # The model validates it: a type the file made up is refused like any other bad value.
        kind = cast(ClipType, str(details.get("type") or ("video" if _is_video(planned.url) else "image")))
        clip = Clip(
            scene_id=scene.id, project_id=self.project.id, name=planned.name[:200], order=order, type=kind,
            timeline_position=position, duration=duration, content=_text(details.get("content"), 10_000),
            lyrics=_text(details.get("lyrics"), 5000), image_prompt=_optional(details.get("image_prompt")),
            video_prompt=_optional(details.get("video_prompt")),
            alternate_of=original.id if original else None, alternate_number=number or None,
        )  # fmt: skip
        if original is not None:
            clip.alternate_number = int(details.get("alternate_number") or number)
        if planned.url:
            media_id = media_id_of(planned.url)
            entry = GeneratedMedia(url=planned.url, media_id=media_id if media_id in self.stored else None,
                                   prompt=clip.image_prompt or "")
            if kind == "video" or _is_video(planned.url):
                clip.generated_videos, clip.selected_video_id = [entry], entry.id
            else:
                clip.generated_images, clip.selected_image_id = [entry], entry.id
            self.media += 1
        self.clips.append(clip)


def _is_video(url: str | None) -> bool:
    return bool(url) and str(url).lower().split("?")[0].endswith(_VIDEO_SUFFIXES)


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _optional(value: Any) -> str | None:
    return value[:10_000] if isinstance(value, str) else None


async def _stored_media(repos: Repositories, plan: ImportPlan) -> set[str]:
    """The media ids the plan refers to that are in the media store (the others stay plain URLs); looked up
    :data:`_LOOKUPS` at a time, as one round trip each is most of a large import's time."""
    wanted = sorted({m for m in [media_id_of(c.url) for c in plan.clips] + [media_id_of(plan.music_url)] if m})
    found: set[str] = set()

    async def look(media_id: str) -> None:
        try:
            await repos.database.media.info(media_id)
            found.add(media_id)
        except StoryboardError:
            pass

    for start in range(0, len(wanted), _LOOKUPS):
        async with anyio.create_task_group() as group:
            for media_id in wanted[start : start + _LOOKUPS]:
                group.start_soon(look, media_id)
    return found


async def write_plan(
    repos: Repositories, plan: ImportPlan, fmt: TimelineFormat, *, owner_id: str | None = None
) -> ImportedProject:
    """Create the project of ``plan``, owned by ``owner_id`` (see the module docstring for atomicity).

    Raises:
        ValidationError: (field ``file``) a time or text the documents cannot hold; nothing is written.
    """
    documents = _Documents(plan, await _stored_media(repos, plan))
    try:
        documents.build()
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        raise ValidationError("file", f"holds a value a storyboard cannot: {first['msg']} "
                              f"({'.'.join(str(p) for p in first['loc'])})") from None
    project = documents.project.model_copy(update={"owner_id": owner_id})

    async def work(session: Any) -> None:
        await repos.projects.insert(project, session=session)
        if documents.scenes:
            await repos.scenes.insert_many(documents.scenes, session=session)
        if documents.clips:
            await repos.clips.insert_many(documents.clips, session=session)
        # The new project's clips are all in hand: count them here rather than query each scene's clips again.
        fields = set(STATS_FIELDS)
        by_scene: dict[str, list[dict[str, Any]]] = {s.id: [] for s in documents.scenes}
        for clip in documents.clips:
            by_scene[clip.scene_id].append(clip.model_dump(include=fields))
        for scene_id, own in by_scene.items():
            await repos.scenes.set_clip_stats(SceneClipStats.of_clips(scene_id, own), session=session)

    try:
        await repos.database.run_transaction(work)
    except BaseException:
        if not repos.database.capabilities.transactions:
            await _remove(repos, documents)
        raise
    return ImportedProject(
        id=project.id, uri=f"storyboard://projects/{project.id}", format=fmt, frame_rate=plan.rate.name,
        scene_count=len(documents.scenes), clip_count=len(documents.clips), media_count=documents.media,
        loses=FORMATS[fmt].loses,
    )  # fmt: skip


async def _remove(repos: Repositories, documents: _Documents) -> None:
    """Undo a partial import where there was no transaction to roll back."""
    await repos.clips.delete_for_project(documents.project.id)
    await repos.scenes.delete_for_project(documents.project.id)
    await repos.projects.delete(documents.project.id)
