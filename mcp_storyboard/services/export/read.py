"""A timeline file as an import plan: scenes from markers, clips with names and frame-exact times, media URLs.

The main timeline is the first enabled video track (OTIO keeps the flag; the XML adapters and the EDL drop it, so
for them it is the first video track). A marker on a clip starts a scene named by the marker's path
(``Act 1 / Scene 2`` nests ``Scene 2`` under ``Act 1``); the scene starts where the clips before it end, as on
export. Clips before any marker go to a first scene named after the timeline. From OTIO files written here, the
disabled alternate tracks come back as alternate clips and scenes (their metadata names their originals).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.lazy_import import lazy_module
from mcp_storyboard.services.export.build import METADATA_KEY, PATH_SEPARATOR
from mcp_storyboard.services.export.timing import FrameRate

if TYPE_CHECKING:
    import opentimelineio as otio  # type: ignore[import-untyped]  # ships no type information
else:
    otio = lazy_module("opentimelineio")  # imported on first use: not needed to start the server

MAX_DEPTH = 5
MUSIC_MAX_SECONDS = 100_000.0
"""The longest soundtrack a project holds (``models.projects.MusicDuration``)."""
_KEPT_SCHEMES = ("storyboard://", "http://", "https://")


@dataclass
class PlannedClip:
    name: str
    start: int
    """Frames from the start of its scene."""
    frames: int
    url: str | None
    details: dict[str, Any]
    """What the file's ``storyboard`` metadata says (OTIO only): type, prompts, content, lyrics, ids."""
    at: int = 0
    """Frames from the start of the timeline."""
    alternate_of: PlannedClip | None = None
    """The original (alternate clips only)."""


@dataclass
class PlannedScene:
    path: tuple[str, ...]
    start: int = 0
    """Frames from the start of the timeline."""
    details: dict[str, Any] = field(default_factory=dict)
    clips: list[PlannedClip] = field(default_factory=list)
    alternate_of: PlannedScene | None = None
    """The scene this one is an alternate of."""


@dataclass
class ImportPlan:
    name: str
    rate: FrameRate
    scenes: list[PlannedScene]
    music_url: str | None = None
    music_seconds: float | None = None
    """The music's length: as the storyboard exported it (its metadata), else the audio clip's, frame-accurate."""

    @property
    def clips(self) -> list[PlannedClip]:
        return [c for s in self.scenes for c in s.clips]


def _details(item: Any) -> dict[str, Any]:
    raw = item.metadata.get(METADATA_KEY)
    return _plain(raw) if raw is not None else {}


def _plain(value: Any) -> Any:
    """OTIO's metadata containers as plain dicts and lists."""
    if isinstance(value, Mapping) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "AnyVector":
        return [_plain(v) for v in value]
    return value


def _url(item: otio.schema.Clip) -> str | None:
    reference = item.media_reference
    url = getattr(reference, "target_url", None)
    if isinstance(reference, otio.schema.MissingReference) or not url:
        return None
    return str(url) if str(url).startswith(_KEPT_SCHEMES) else None


def _path(marker: otio.schema.Marker) -> tuple[str, ...]:
    path = _details(marker).get("path")
    parts = [str(p) for p in path] if isinstance(path, list) and path else marker.name.split(PATH_SEPARATOR)
    parts = [p.strip()[:200] or "Scene" for p in parts]
    if len(parts) > MAX_DEPTH:  # deeper than scenes nest: the rest joins the last level's name
        parts = parts[: MAX_DEPTH - 1] + [PATH_SEPARATOR.join(parts[MAX_DEPTH - 1 :])[:200]]
    return tuple(parts)


class _Reader:
    def __init__(self, rate: FrameRate, name: str) -> None:
        self.rate = rate
        self.plan = ImportPlan(name=name, rate=rate, scenes=[])
        self.by_path: dict[tuple[str, ...], PlannedScene] = {}
        self.by_old_id: dict[str, tuple[PlannedScene, PlannedClip | None]] = {}

    def frames(self, item: Any) -> int:
        if isinstance(item, otio.schema.Transition):
            return 0  # a dissolve overlaps its neighbours; it takes no time of its own on the track
        return self.rate.frames(item.source_range.duration if item.source_range else item.duration())

    def scene(self, path: tuple[str, ...], start: int, details: dict[str, Any] | None = None) -> PlannedScene:
        for depth in range(1, len(path) + 1):
            if path[:depth] not in self.by_path:
                scene = PlannedScene(path=path[:depth], start=start)
                self.by_path[scene.path] = scene
                self.plan.scenes.append(scene)
        found = self.by_path[path]
        if details:
            found.details = details
            if isinstance(details.get("scene_id"), str):
                self.by_old_id[details["scene_id"]] = (found, None)
        return found

    def read_main(self, track: otio.schema.Track) -> None:
        cursor = clips_end = 0
        current: PlannedScene | None = None
        for item in track:
            frames = self.frames(item)
            if isinstance(item, otio.schema.Clip):
                frames = max(frames, 1)
                for marker in item.markers:
                    current = self.scene(_path(marker), clips_end, _details(marker))
                if current is None:
                    current = self.scene((self.plan.name[:200] or "Scene 1",), 0)
                clip = PlannedClip(item.name or "Clip", cursor - current.start, frames, _url(item), _details(item),
                                   at=cursor)
                current.clips.append(clip)
                if isinstance(clip.details.get("clip_id"), str):
                    self.by_old_id[clip.details["clip_id"]] = (current, clip)
                clips_end = cursor + frames
            cursor += frames
        for marker in track.markers:  # scenes after the last clip, empty
            self.scene(_path(marker), clips_end, _details(marker))

    def read_alternates(self, track: otio.schema.Track) -> None:
        cursor = 0
        for item in track:
            frames = self.frames(item)
            if isinstance(item, otio.schema.Clip):
                self._alternate(item, cursor, max(frames, 1))
            cursor += frames

    def _alternate(self, item: otio.schema.Clip, at: int, frames: int) -> None:
        details = _details(item)
        clip = PlannedClip(item.name or "Clip", 0, frames, _url(item), details, at=at)
        scene, original = self.by_old_id.get(str(details.get("alternate_of")), (None, None))
        if scene is not None and original is not None:
            clip.start, clip.alternate_of = at - scene.start, original
            scene.clips.append(clip)
            return
        info = details.get("alternate_scene")
        if not isinstance(info, dict):
            return  # a disabled track from elsewhere: not ours to interpret
        of, _ = self.by_old_id.get(str(info.get("of")), (None, None))
        if of is None:
            return
        key = (*of.path, f"\x00{info.get('scene_id')}")
        alternate = self.by_path.get(key)
        if alternate is None:
            alternate = PlannedScene(path=key, start=of.start, details={"name": info.get("name")}, alternate_of=of)
            self.by_path[key] = alternate
            self.plan.scenes.append(alternate)
        clip.start = at - of.start
        alternate.clips.append(clip)


def read_timeline(timeline: otio.schema.Timeline, *, rate: FrameRate | None, name: str, keeps_alternates: bool) -> ImportPlan:
    """The import plan of ``timeline``; ``rate`` (for an EDL, which has none) or the rate of its first clip.

    Raises:
        ValidationError: (field ``file``) the timeline has no video track or no clip on it.
    """
    videos = list(timeline.video_tracks())
    main = next((t for t in videos if t.enabled), None) if keeps_alternates else (videos[0] if videos else None)
    clips = list(main.find_clips(shallow_search=True)) if main is not None else []
    if main is None or not clips:
        raise ValidationError("file", "holds no clip on a video track", hint="export a timeline with clips and retry")
    source = clips[0].source_range or clips[0].trimmed_range()
    reader = _Reader(rate or FrameRate.nearest(source.duration.rate), name)
    reader.read_main(main)
    if keeps_alternates:
        for track in videos:
            if track is not main and not track.enabled:
                reader.read_alternates(track)
    for track in timeline.audio_tracks():
        music = next(iter(track.find_clips(shallow_search=True)), None)
        if music is not None and _url(music):
            reader.plan.music_url = _url(music)
            reader.plan.music_seconds = _music_seconds(music, reader.plan.rate)
            break
    return reader.plan


def _music_seconds(music: Any, rate: FrameRate) -> float | None:
    """The soundtrack's length: the exported project's ``music_duration`` when the clip carries it (the file may
    be longer than the timeline it was cut to), else the audio clip's length on the track."""
    stored = _details(music).get("music_duration")
    if isinstance(stored, int | float) and not isinstance(stored, bool) and 0 < stored <= MUSIC_MAX_SECONDS:
        return round(float(stored), 2)
    frames = rate.frames(music.duration())
    return rate.seconds(frames) if frames > 0 else None
