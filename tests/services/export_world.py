"""A storyboard with nested scenes, gaps, alternates (clip and scene), missing media and music, for the timeline
export tests, and a reading of a project's timeline to compare an import with."""

from __future__ import annotations

from dataclasses import dataclass

from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.clips import Clip, GeneratedMedia
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.projects.tree import walk
from tests.media_samples import MP3, png


@dataclass(frozen=True)
class World:
    project_id: str
    image_id: str
    chase_id: str


async def build_world(services: Services) -> World:
    repos, store = services.repositories, services.database.media
    project = Project(name="Night Drive")
    image = await store.put(png(), content_type="image/png", filename="open.png", project_id=project.id)
    video = await store.put(b"\x00\x00\x00\x18ftypmp42", content_type="video/mp4", filename="run.mp4", project_id=project.id)
    music = await store.put(MP3, content_type="audio/mpeg", filename="song.mp3", project_id=project.id)
    project.music_media_id, project.music_duration = music.id, 60.0
    await repos.projects.insert(project)
    hero = await repos.characters.insert(Character(project_id=project.id, name="Mara"))
    pid = project.id

    def scene(name: str, order: int, parent: str | None = None, **more: object) -> Scene:
        return Scene(project_id=pid, name=name, order=order, parent_scene_id=parent, **more)  # type: ignore[arg-type]

    intro, act, outro = scene("Intro", 0), scene("Act 1", 1, lyrics="la la"), scene("Outro", 2)
    chase, crash = scene("Chase", 0, act.id), scene("Crash", 1, act.id)
    chase_alt = scene("Chase take 2", 0, chase.id, is_alternate=True, alternate_number=1)
    for s in (intro, act, outro, chase, crash, chase_alt):
        await repos.scenes.insert(s)

    def clip(sc: Scene, name: str, order: int, at: float, length: float, **more: object) -> Clip:
        return Clip(project_id=pid, scene_id=sc.id, name=name, order=order, timeline_position=at, duration=length,
                    **more)  # type: ignore[arg-type]

    shot = GeneratedMedia(url=image.uri, media_id=image.id, prompt="a neon road")
    run = GeneratedMedia(url=video.uri, media_id=video.id)
    opening = clip(intro, "Open", 0, 0.0, 2.0, image_prompt="a neon road", generated_images=[shot],
                   selected_image_id=shot.id, character_id=hero.id)
    alt = GeneratedMedia(url="https://example.com/open-b.png")
    clips = [
        opening,
        clip(intro, "Open A1", 1, 0.0, 2.0, alternate_of=opening.id, alternate_number=1, generated_images=[alt],
             selected_image_id=alt.id),
        clip(intro, "Title", 2, 3.0, 2.0, type="text", content="NIGHT DRIVE"),  # after a 1 s gap, no media
        clip(chase, "Run", 0, 1.0, 2.0, type="video", generated_videos=[run], selected_video_id=run.id,
             video_prompt="running"),  # a leading gap
        clip(chase, "Jump", 1, 3.0, 1.0),
        clip(crash, "Boom", 0, 0.0, 4.0, character_id=hero.id),
        clip(chase_alt, "Run wide", 0, 0.0, 3.0),
    ]
    await repos.clips.insert_many(clips)
    return World(pid, image.id, chase.id)


Row = tuple[str, str, float, float]
"""(scene path, clip name, absolute start, duration) of a main-timeline clip."""


async def main_timeline(services: Services, project_id: str) -> tuple[list[str], list[Row]]:
    """The project's main scenes as paths in play order, and its main clips in play order with absolute times."""
    tree = await services.projects.tree(project_id)
    paths: list[str] = []
    rows: list[Row] = []

    def visit(nodes: list, prefix: str) -> None:  # type: ignore[type-arg]
        for node in nodes:
            path = f"{prefix} / {node.name}" if prefix else node.name
            paths.append(path)
            for c in sorted((c for c in node.clips if c.alternate_of is None), key=lambda c: c.timeline_position):
                rows.append((path, c.name, round(node.offset + c.timeline_position, 2), c.duration))
            visit(node.sub_scenes, path)

    visit(tree.scenes, "")
    assert sum(1 for _ in walk(tree.scenes)) == tree.scene_count
    return paths, rows
