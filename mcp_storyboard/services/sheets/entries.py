"""What a contact sheet shows, pure: the main timeline's scenes in play order (each with its path of names, so a
nested scene keeps where it sits) and, under each, its main clips with their project-timeline start, length,
character and the image to draw — or why there is none.

Everything here is plain data built from the documents; drawing (``draw.py``) never reads a document, and the
fingerprint of these entries keys the in-memory cache (a change to anything shown changes the key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from mcp_storyboard.errors import NotFoundError
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.media import media_id_of
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.common.timeline import SceneNode, place_scenes, timeline_sequence
from mcp_storyboard.services.projects.tree import scene_length

PATH_SEPARATOR = " › "
ImageKind = Literal["stored", "external", "none"]


@dataclass(frozen=True)
class ClipEntry:
    """One cell: a main clip and what to draw for it."""

    clip_id: str
    name: str
    start: float
    """Seconds from the start of the project timeline."""
    duration: float
    character: str
    """The character's name, or "" when none."""
    image: ImageKind
    """stored: ``media_id`` is in the media store; external: only a URL outside it; none: no selected image."""
    media_id: str | None
    url: str | None
    """The selected image's URL (shown on an external-image card)."""
    prompt: str
    """The clip's image prompt (or video prompt, or text), shown on a card when there is no image."""
    video_id: str | None = None
    """The selected video's media-store id when the clip plays it (a video clip, or one without a selected
    image; the timeline export's choice): an animatic shows it, a sheet draws the image."""


@dataclass(frozen=True)
class SceneEntry:
    """A scene heading and its main clips in timeline order."""

    scene_id: str
    path: tuple[str, ...]
    """Names from the top-level scene down to this one."""
    clips: tuple[ClipEntry, ...]

    @property
    def heading(self) -> str:
        return PATH_SEPARATOR.join(self.path)


@dataclass(frozen=True)
class SheetContents:
    project_id: str
    title: str
    scenes: tuple[SceneEntry, ...]

    @property
    def clip_count(self) -> int:
        return sum(len(s.clips) for s in self.scenes)

    def fingerprint(self) -> str:
        """A digest of everything the sheet shows: equal digests draw equal sheets."""
        return hashlib.sha256(repr(asdict(self)).encode()).hexdigest()


def image_of(clip: Clip) -> tuple[ImageKind, str | None, str | None]:
    """The selected image of ``clip``: its media-store id when it is stored (the entry's ``media_id``, or a
    ``storyboard://media/`` URL), else its external URL (never fetched here), else nothing."""
    entry = next((m for m in clip.generated_images if m.id == clip.selected_image_id), None)
    if entry is None:
        return "none", None, None
    stored = entry.media_id or media_id_of(entry.url)
    return ("stored", stored, entry.url) if stored is not None else ("external", None, entry.url)


def video_of(clip: Clip) -> str | None:
    """The media-store id of the clip's selected video when the clip plays it rather than its image: a video
    clip, or a clip without a selected image (the export's ``_selected`` makes the same choice)."""
    entry = next((m for m in clip.generated_videos if m.id == clip.selected_video_id), None)
    if entry is None or (clip.type != "video" and any(m.id == clip.selected_image_id for m in clip.generated_images)):
        return None
    return entry.media_id or media_id_of(entry.url)


def _prompt(clip: Clip) -> str:
    for text in (clip.image_prompt, clip.video_prompt, clip.content):
        if text and text.strip():
            return text.strip()
    return ""


def sheet_contents(
    project: Project,
    scenes: Sequence[Scene],
    clips: Sequence[Clip],
    characters: Mapping[str, Character],
    *,
    scene_id: str | None = None,
) -> SheetContents:
    """The sheet of ``project`` (or of the subtree of ``scene_id``): main-timeline scenes depth first, each with
    its main (non-alternate) clips by start; a requested alternate scene is shown with its own sub-scenes.

    Raises:
        NotFoundError: ``scene_id`` is not a scene of the project.
    """
    by_id = {s.id: s for s in scenes}
    if scene_id is not None and scene_id not in by_id:
        raise NotFoundError("scene", scene_id, hint=f"it is not in project {project.id}; get_project_tree lists its scenes")
    own: dict[str, list[Clip]] = {}
    for clip in clips:
        own.setdefault(clip.scene_id, []).append(clip)
    # A scene whose parent is gone plays at the top level (as the tree and the timeline analysis place it).
    nodes = [SceneNode(s.id, s.parent_scene_id if s.parent_scene_id in by_id else None, s.is_alternate, s.order)
             for s in scenes]
    placement = place_scenes(nodes, {s.id: scene_length(own.get(s.id, [])) for s in scenes})
    entries: list[SceneEntry] = []
    for sid, _depth in timeline_sequence(nodes, root=scene_id):
        offset = placement.places[sid].offset if sid in placement.places else 0.0
        main = sorted((c for c in own.get(sid, []) if c.alternate_of is None),
                      key=lambda c: (c.timeline_position, c.order, c.id))
        cells = []
        for clip in main:
            kind, media_id, url = image_of(clip)
            character = characters.get(clip.character_id) if clip.character_id else None
            cells.append(ClipEntry(
                clip_id=clip.id, name=clip.name, start=round(offset + clip.timeline_position, 2),
                duration=clip.duration, character=character.name if character else "", image=kind,
                media_id=media_id, url=url, prompt=_prompt(clip), video_id=video_of(clip),
            ))  # fmt: skip
        entries.append(SceneEntry(sid, _path(sid, by_id), tuple(cells)))
    return SheetContents(project.id, project.name, tuple(entries))


def _path(scene_id: str, by_id: Mapping[str, Scene]) -> tuple[str, ...]:
    names: list[str] = []
    seen: set[str] = set()
    current: str | None = scene_id
    while current is not None and current in by_id and current not in seen:  # a parent cycle in bad data is cut
        seen.add(current)
        names.append(by_id[current].name)
        current = by_id[current].parent_scene_id
    return tuple(reversed(names))
