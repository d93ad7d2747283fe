"""Trees at scale: without clips the numbers come from one aggregate and match the full tree; a tree with more
clips than can fit is refused before its clips are read, with a clip cap that fits; a tree that fits is never
refused by the estimate."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mcp_storyboard.errors import InvalidStateError
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.projects.tree import ProjectTree, SceneNode, TreeOptions, tree_size, walk


def numbers(tree: ProjectTree) -> list[tuple[Any, ...]]:
    nodes: list[SceneNode] = list(walk(tree.scenes))
    return sorted((n.id, n.clip_count, n.duration, n.offset) for n in nodes) + [(tree.clip_count, tree.total_duration)]


async def test_a_tree_without_clips_has_the_full_trees_counts_lengths_and_offsets(services: Services) -> None:
    repos = services.repositories
    project = await repos.projects.insert(Project(name="Counted"))
    intro = Scene(project_id=project.id, name="Intro", order=0)
    verse = Scene(project_id=project.id, name="Verse", order=1)
    sub = Scene(project_id=project.id, name="Close-ups", order=0, parent_scene_id=verse.id)
    alt = Scene(project_id=project.id, name="Verse A1", order=0, parent_scene_id=verse.id, is_alternate=True,
                alternate_number=1)  # fmt: skip
    empty = Scene(project_id=project.id, name="Outro", order=2)
    await repos.scenes.insert_many([intro, verse, sub, alt, empty])
    original = Clip(project_id=project.id, scene_id=intro.id, order=0, timeline_position=0, duration=4.25)
    await repos.clips.insert_many([
        original,
        Clip(project_id=project.id, scene_id=intro.id, order=1, timeline_position=4.25, duration=2.5),
        # An alternate ends later than every main clip: it does not lengthen its scene.
        Clip(project_id=project.id, scene_id=intro.id, order=2, timeline_position=4.25, duration=30,
             alternate_of=original.id, alternate_number=1),
        Clip(project_id=project.id, scene_id=sub.id, order=0, timeline_position=1.005, duration=3.333),
        Clip(project_id=project.id, scene_id=alt.id, order=0, timeline_position=0, duration=9),
    ])  # fmt: skip
    legacy = Clip(project_id=project.id, scene_id=verse.id, order=0, timeline_position=2).model_dump()
    legacy["length"] = legacy.pop("duration") + 1.5  # the original app's name for duration
    await repos.clips.collection.insert_one(legacy)

    full = await services.projects.tree(project.id)
    bare = await services.projects.tree(project.id, TreeOptions(include_clips=False))
    assert numbers(bare) == numbers(full)
    assert all(not n.clips and n.clips_omitted == n.clip_count for n in walk(bare.scenes))
    assert full.clip_count == 6 and bare.total_duration == full.total_duration == 19.58  # 6.75 + 8.5 + 4.33


async def test_a_tree_with_more_clips_than_can_fit_is_refused_before_they_are_read(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    repos = services.repositories
    project = await repos.projects.insert(Project(name="Crowded"))
    scenes = [Scene(project_id=project.id, name=f"S{i}", order=i) for i in range(3)]
    await repos.scenes.insert_many(scenes)
    await repos.clips.insert_many([Clip(project_id=project.id, scene_id=s.id, order=j, timeline_position=j * 5,
                                        name=f"shot {j}", image_prompt="rain") for s in scenes for j in range(40)])  # fmt: skip
    limit = 6000  # 120 clips need at least 120 x 90 characters
    read: list[str] = []
    outlines = repos.clips.outlines_for_project

    async def spied(project_id: str, **kwargs: Any) -> Any:
        read.append(project_id)
        return await outlines(project_id, **kwargs)

    monkeypatch.setattr(repos.clips, "outlines_for_project", spied)
    with pytest.raises(InvalidStateError) as caught:
        await services.projects.tree(project.id, max_bytes=limit)
    assert read == []
    text = str(caught.value)
    assert caught.value.code == "too-large" and "(120 clips)" in text and "include_clips=false" in text
    assert f"scene_id=<one top-level scene>, e.g. {scenes[0].id} (S0)" in text
    cap = int(re.search(r"max_clips_per_scene=(\d+)", text).group(1))  # type: ignore[union-attr]
    capped = await services.projects.tree(project.id, TreeOptions(max_clips_per_scene=cap), max_bytes=limit)
    assert capped.clip_count == 120 and all(len(n.clips) == cap for n in capped.scenes)
    assert await services.projects.tree(project.id, TreeOptions(include_clips=False), max_bytes=limit)


async def test_a_tree_of_the_shortest_clips_that_fits_exactly_is_not_refused(services: Services) -> None:
    repos = services.repositories
    project = await repos.projects.insert(Project(name="Tight"))
    scene = Scene(project_id=project.id, name="S", order=0)
    await repos.scenes.insert_many([scene])
    # One-character ids, no names, text clips at 0: every summary as short as a summary can be.
    await repos.clips.insert_many([Clip(id=f"{i:x}", project_id=project.id, scene_id=scene.id, order=0, type="text",
                                        timeline_position=0) for i in range(16)])  # fmt: skip
    size = tree_size(await services.projects.tree(project.id))
    assert (await services.projects.tree(project.id, max_bytes=size)).clip_count == 16
    with pytest.raises(InvalidStateError):
        await services.projects.tree(project.id, max_bytes=size - 1)
