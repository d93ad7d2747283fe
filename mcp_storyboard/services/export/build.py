"""A project (or one scene and its sub-scenes) as an OpenTimelineIO timeline, pure and synchronous.

Layout: the main timeline's clips in play order on the first video track, gaps as gaps; each scene as a marker on
its first clip, named by its path (``Act 1 / Scene 2``), so an import rebuilds the nesting; alternates (when asked)
on disabled video tracks after it, each at its original's time; the project's music on an audio track. A scene
starts where the clips before it end (a scene is as long as its last main clip ends), so markers on clips are
enough to place every scene again, its leading gap included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mcp_storyboard.db.media import MEDIA_URI_PREFIX
from mcp_storyboard.lazy_import import lazy_module
from mcp_storyboard.models.clips import Clip, GeneratedMedia
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.common.timeline import SceneNode, timeline_sequence
from mcp_storyboard.services.export.timing import FrameRate
from mcp_storyboard.services.projects.tree import scene_length

if TYPE_CHECKING:
    import opentimelineio as otio  # type: ignore[import-untyped]  # ships no type information
else:
    otio = lazy_module("opentimelineio")  # imported on first use: not needed to start the server

PATH_SEPARATOR = " / "
METADATA_KEY = "storyboard"
REEL_LENGTH = 8
VIDEO_TRACK = "Storyboard"
MUSIC_TRACK = "Music"
ALTERNATES_TRACK = "Alternates"


@dataclass
class BuiltTimeline:
    timeline: otio.schema.Timeline
    clip_count: int = 0
    """Main clips on the video track."""
    frames: int = 0
    """Length of the video track in frames."""
    rounded: list[str] = field(default_factory=list)
    """Names (or ids) of clips whose start or end moved to the nearest frame."""


@dataclass
class _Lane:
    track: otio.schema.Track
    end: int = 0


@dataclass
class TimelineInput:
    """What the builder reads: a project's documents, loaded by the service."""

    project: Project
    scenes: Sequence[Scene]
    clips: Sequence[Clip]
    characters: Mapping[str, str]
    """Character id -> name."""
    root_scene_id: str | None = None


class _Builder:
    def __init__(self, data: TimelineInput, rate: FrameRate, include_alternates: bool) -> None:
        self.data = data
        self.rate = rate
        self.include_alternates = include_alternates
        self.by_scene: dict[str, list[Clip]] = {}
        for clip in sorted(data.clips, key=lambda c: (c.order, c.id)):
            self.by_scene.setdefault(clip.scene_id, []).append(clip)
        self.scenes = {s.id: s for s in data.scenes}
        self.video = otio.schema.Track(name=VIDEO_TRACK, kind=otio.schema.TrackKind.Video)
        self.lanes: list[_Lane] = []
        self.cursor = 0
        self.pending: list[otio.schema.Marker] = []
        self.result = BuiltTimeline(otio.schema.Timeline(name=data.project.name))

    def build(self) -> BuiltTimeline:
        nodes = [SceneNode(s.id, s.parent_scene_id, s.is_alternate, s.order) for s in self.data.scenes]
        offset = 0.0
        path: list[str] = []
        for scene_id, depth in timeline_sequence(nodes, root=self.data.root_scene_id):
            scene = self.scenes[scene_id]
            path[depth:] = [scene.name]
            self.pending.append(self._marker(scene, path))
            main = [c for c in self.by_scene.get(scene_id, []) if c.alternate_of is None]
            for clip in sorted(main, key=lambda c: (c.timeline_position, c.order, c.id)):
                self._main_clip(clip, offset)
            if self.include_alternates:
                self._alternates(scene, offset)
            offset = round(offset + scene_length(main), 2)
        # Scenes after the last clip (empty ones) mark the track's end: only OTIO keeps track markers.
        for marker in self.pending:
            marker.marked_range = self.rate.range(self.cursor, 0)
            self.video.markers.append(marker)
        timeline = self.result.timeline
        timeline.tracks.append(self.video)
        for lane in self.lanes:
            timeline.tracks.append(lane.track)
        self._music()
        self.result.frames = self.cursor
        return self.result

    # -- main track ------------------------------------------------------------------------------------------
    def _frames(self, clip: Clip, offset: float) -> tuple[int, int]:
        start_s = round(offset + clip.timeline_position, 2)
        end_s = round(start_s + clip.duration, 6)
        start, end = self.rate.frame_at(start_s), self.rate.frame_at(end_s)
        if not (self.rate.on_frame(start_s) and self.rate.on_frame(end_s)) or end <= start:
            self.result.rounded.append(clip.name or clip.id)
        return start, max(end, start + 1)

    def _main_clip(self, clip: Clip, offset: float) -> None:
        start, end = self._frames(clip, offset)
        start = max(start, self.cursor)  # bad data (an overlap) never reorders the track
        end = max(end, start + 1)
        if start > self.cursor:
            self.video.append(otio.schema.Gap(source_range=self.rate.range(0, start - self.cursor)))
        item = self._clip(clip, end - start)
        item.markers.extend(self.pending)
        self.pending = []
        self.video.append(item)
        self.cursor = end
        self.result.clip_count += 1

    def _marker(self, scene: Scene, path: list[str]) -> otio.schema.Marker:
        marker = otio.schema.Marker(name=PATH_SEPARATOR.join(path), marked_range=self.rate.range(0, 0))
        marker.metadata[METADATA_KEY] = {"scene_id": scene.id, "path": list(path), "description": scene.description,
                                         "lyrics": scene.lyrics}
        return marker

    def _clip(self, clip: Clip, frames: int, extra: Mapping[str, object] | None = None) -> otio.schema.Clip:
        entry = _selected(clip)
        url = entry.url if entry is not None else clip.media_url
        available = self.rate.range(0, frames)
        reference: otio.core.MediaReference
        if url:
            reference = otio.schema.ExternalReference(target_url=url, available_range=available)
        else:
            reference = otio.schema.MissingReference(available_range=available)
        item = otio.schema.Clip(name=clip.name or "Clip", media_reference=reference, source_range=available)
        character = self.data.characters.get(clip.character_id or "")
        details = {
            "clip_id": clip.id, "type": clip.type, "image_prompt": clip.image_prompt, "video_prompt": clip.video_prompt,
            "content": clip.content, "lyrics": clip.lyrics, "character_id": clip.character_id, "character": character,
            **(extra or {}),
        }  # fmt: skip
        # Empty fields are left out: converting each value into OTIO's metadata is most of the build's time.
        item.metadata[METADATA_KEY] = {k: v for k, v in details.items() if v not in (None, "")}
        item.metadata["cmx_3600"] = {"reel": reel_name(url)}
        return item

    # -- alternates ------------------------------------------------------------------------------------------
    def _alternates(self, scene: Scene, offset: float) -> None:
        own = self.by_scene.get(scene.id, [])
        for clip in sorted((c for c in own if c.alternate_of is not None), key=lambda c: (c.alternate_number or 0, c.id)):
            start, end = self._frames(clip, offset)
            self._place(self._clip(clip, end - start, {"alternate_of": clip.alternate_of,
                                                       "alternate_number": clip.alternate_number}), start, end)
        alternates = [s for s in self.data.scenes if s.parent_scene_id == scene.id and s.is_alternate]
        for alternate in sorted(alternates, key=lambda s: (s.alternate_number or 0, s.id)):
            scene_info = {"scene_id": alternate.id, "name": alternate.name, "of": scene.id,
                          "alternate_number": alternate.alternate_number}
            main = [c for c in self.by_scene.get(alternate.id, []) if c.alternate_of is None]
            for clip in sorted(main, key=lambda c: (c.timeline_position, c.order, c.id)):
                start, end = self._frames(clip, offset)
                self._place(self._clip(clip, end - start, {"alternate_scene": scene_info}), start, end)

    def _place(self, item: otio.schema.Clip, start: int, end: int) -> None:
        lane = next((lane for lane in self.lanes if lane.end <= start), None)
        if lane is None:
            track = otio.schema.Track(name=f"{ALTERNATES_TRACK} {len(self.lanes) + 1}", kind=otio.schema.TrackKind.Video)
            track.enabled = False  # alternates are there to swap in, not to play
            lane = _Lane(track)
            self.lanes.append(lane)
        if start > lane.end:
            lane.track.append(otio.schema.Gap(source_range=self.rate.range(0, start - lane.end)))
        lane.track.append(item)
        lane.end = max(end, start + 1)

    # -- music -----------------------------------------------------------------------------------------------
    def _music(self) -> None:
        project = self.data.project
        if project.music_media_id is None or self.cursor == 0:
            return
        frames = self.cursor
        if project.music_duration:
            frames = min(frames, max(1, self.rate.frame_at(project.music_duration)))
        available = self.rate.range(0, frames)
        url = MEDIA_URI_PREFIX + project.music_media_id
        track = otio.schema.Track(name=MUSIC_TRACK, kind=otio.schema.TrackKind.Audio)
        music = otio.schema.Clip(name=MUSIC_TRACK, source_range=available,
                                 media_reference=otio.schema.ExternalReference(target_url=url, available_range=available))
        music.metadata[METADATA_KEY] = {"music_media_id": project.music_media_id,
                                        "music_duration": project.music_duration}
        music.metadata["cmx_3600"] = {"reel": reel_name(url)}
        track.append(music)
        self.result.timeline.tracks.append(track)


def _selected(clip: Clip) -> GeneratedMedia | None:
    """The clip's selected video for a video clip (exports use it), else its selected image."""
    videos = {m.id: m for m in clip.generated_videos}
    images = {m.id: m for m in clip.generated_images}
    video = videos.get(clip.selected_video_id or "")
    image = images.get(clip.selected_image_id or "")
    return (video or image) if clip.type == "video" else (image or video)


def reel_name(url: str | None) -> str:
    """An EDL reel name: at most 8 letters and digits (CMX 3600), from the media id or file name; AX (auxiliary
    source) when there is no media."""
    if not url:
        return "AX"
    base = url[len(MEDIA_URI_PREFIX):] if url.startswith(MEDIA_URI_PREFIX) else url.rstrip("/").rsplit("/", 1)[-1]
    base = re.sub(r"\.[A-Za-z0-9]+$", "", base)
    reel = re.sub(r"[^A-Za-z0-9]", "", base).upper()[:REEL_LENGTH]
    return reel or "AX"


def build_timeline(data: TimelineInput, rate: FrameRate, *, include_alternates: bool) -> BuiltTimeline:
    """The timeline of ``data`` at ``rate`` (see the module docstring for the layout)."""
    return _Builder(data, rate, include_alternates).build()
