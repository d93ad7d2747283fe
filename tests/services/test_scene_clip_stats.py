"""Each scene's stored clip numbers (``clip_stats``: count, where its last main clip ends) stay equal to its clips
through every clip change, under parallel changes too, and migration 0004 fills them for older scenes; the project
tree then reads them with the scenes instead of counting the clips."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.migrations import apply_migrations
from mcp_storyboard.errors import StoryboardError
from mcp_storyboard.models import Clip, Project, Scene
from mcp_storyboard.services.clips.results import NewClip
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.projects.tree import TreeOptions

ROUNDS = 12


async def stored(services: Services, project_id: str) -> dict[str, tuple[int, float]]:
    _, stats = await services.repositories.scenes.list_with_clip_stats(project_id)
    assert stats is not None, "a scene has no stored clip numbers"
    return {s.scene_id: (s.clips, s.main_end) for s in stats}


async def counted(services: Services, project_id: str) -> dict[str, tuple[int, float]]:
    """The same numbers counted from the clips by the database (one aggregate, the numbers' other source)."""
    scenes = await services.repositories.scenes.list_for_project(project_id)
    by_scene = {s.scene_id: (s.clips, s.main_end) for s in await services.repositories.clips.scene_stats(project_id)}
    return {scene.id: by_scene.get(scene.id, (0, 0.0)) for scene in scenes}


async def test_every_clip_change_keeps_the_scenes_numbers(services: Services) -> None:
    project = await services.projects.create("Kept")
    a = await services.scenes.create(project.id, name="A")
    b = await services.scenes.create(project.id, name="B")
    assert await stored(services, project.id) == {a.id: (0, 0.0), b.id: (0, 0.0)}
    first = await services.clips.create(a.id, NewClip(name="one", duration=4))
    second = await services.clips.create(a.id, NewClip(name="two", duration=3))
    assert await stored(services, project.id) == {a.id: (2, 7.0), b.id: (0, 0.0)}
    alternate = await services.clips.create_alternate(second.id)
    await services.clips.set_timing(alternate.id, timeline_position=50, allow_overlap=True)
    assert await stored(services, project.id) == {a.id: (3, 7.0), b.id: (0, 0.0)}  # an alternate is not main
    await services.clips.set_timing(first.id, timeline_position=20)
    assert await stored(services, project.id) == {a.id: (3, 24.0), b.id: (0, 0.0)}
    await services.clips.move(first.id, scene_id=b.id)
    assert await stored(services, project.id) == await counted(services, project.id)
    assert (await stored(services, project.id))[a.id][0] == 2
    copy = await services.scenes.create_alternate(a.id, copy_clips=True)
    assert (await stored(services, project.id))[copy.id] == (1, 7.0)  # the main clip copied
    await services.clips.delete(second.id, confirm=True)
    assert await stored(services, project.id) == await counted(services, project.id)
    assert (await stored(services, project.id))[a.id] == (0, 0.0)


async def test_parallel_creates_moves_and_deletes_leave_exact_numbers(services: Services, db: Database) -> None:
    if db.backend == "memory":
        pytest.skip("memory:// never interleaves calls (mongomock does not yield), so nothing races there")
    project = await services.projects.create("Raced")
    scenes = [await services.scenes.create(project.id, name=f"S{n}") for n in range(2)]
    clips = [await services.clips.create(scenes[n % 2].id, NewClip(name=f"c{n}")) for n in range(6)]
    rng = random.Random(7)
    for round_no in range(ROUNDS):
        calls: list[Callable[[], Awaitable[Any]]] = []
        for n in range(3):
            calls.append(lambda n=n: services.clips.create(scenes[n % 2].id, NewClip(name=f"r{round_no}-{n}")))
        for clip in rng.sample(clips, 4):
            target = rng.choice(scenes)
            calls.append(lambda clip=clip, target=target: services.clips.move(clip.id, scene_id=target.id))
        for clip in rng.sample(clips, 2):
            calls.append(lambda clip=clip: services.clips.delete(clip.id, confirm=True))
        calls.append(lambda: services.clips.set_timing(clips[0].id, duration=rng.choice([2.0, 9.0])))
        calls.append(lambda: services.clips.create_alternate(clips[1].id))
        created: list[Any] = []

        async def run(call: Callable[[], Awaitable[Any]]) -> None:
            try:
                created.append(await call())
            except StoryboardError:  # a clip already deleted, a slot taken: refused, nothing written
                pass

        async with anyio.create_task_group() as tg:
            for call in calls:
                tg.start_soon(run, call)
        assert await stored(services, project.id) == await counted(services, project.id), f"round {round_no}"
        clips = await services.repositories.clips.list_for_project(project.id)
        if len(clips) < 6:
            clips += [await services.clips.create(scenes[0].id, NewClip(name="refill")) for _ in range(6 - len(clips))]


async def test_the_migration_fills_the_numbers_of_older_scenes_only(services: Services, db: Database) -> None:
    repos = services.repositories
    project = await repos.projects.insert(Project(name="Old"))
    full, empty, kept = (Scene(project_id=project.id, name=n, order=i) for i, n in enumerate(("full", "empty", "kept")))
    await repos.scenes.insert_many([full, empty, kept])  # as a version before the numbers stored scenes
    await repos.clips.insert_many([
        Clip(project_id=project.id, scene_id=full.id, order=0, timeline_position=0, duration=4),
        Clip(project_id=project.id, scene_id=full.id, order=1, timeline_position=40, duration=2, alternate_of="x" * 8),
    ])  # fmt: skip
    legacy = Clip(project_id=project.id, scene_id=full.id, order=2, timeline_position=6).model_dump()
    legacy["length"] = legacy.pop("duration") + 1  # the legacy name of duration: 6.0 s
    await repos.clips.collection.insert_one(legacy)
    await repos.scenes.collection.update_one({"id": kept.id}, {"$set": {"clip_stats": {"clips": 9, "main_end": 1.0}}})
    assert (await repos.scenes.list_with_clip_stats(project.id))[1] is None  # the tree would count the clips

    dry = await apply_migrations(db, dry_run=True)
    assert [(r.version, r.changed) for r in dry if r.version == 4] == [(4, 2)]
    assert (await repos.scenes.list_with_clip_stats(project.id))[1] is None
    applied = await apply_migrations(db)
    assert [(r.version, r.changed) for r in applied if r.version == 4] == [(4, 2)]
    assert await stored(services, project.id) == {full.id: (3, 12.0), empty.id: (0, 0.0), kept.id: (9, 1.0)}


async def test_the_tree_reads_the_numbers_with_the_scenes_and_counts_without_them(services: Services,
                                                                                   db: Database) -> None:
    project = await services.projects.create("Read")
    scene = await services.scenes.create(project.id, name="A")
    for n in range(3):
        await services.clips.create(scene.id, NewClip(name=f"c{n}", duration=2))
    counts: list[str] = []
    clips = services.repositories.clips
    original_stats, original_count = clips.scene_stats, clips.count_for_project

    async def scene_stats(project_id: str, **kwargs: Any) -> Any:
        counts.append("scene_stats")
        return await original_stats(project_id, **kwargs)

    async def count_for_project(project_id: str, **kwargs: Any) -> int:
        counts.append("count_for_project")
        return await original_count(project_id, **kwargs)

    clips.scene_stats, clips.count_for_project = scene_stats, count_for_project  # type: ignore[method-assign]
    bare = await services.projects.tree(project.id, TreeOptions(include_clips=False))
    assert (bare.clip_count, bare.scenes[0].clip_count, bare.scenes[0].duration) == (3, 3, 6.0)
    with pytest.raises(StoryboardError) as refused:
        await services.projects.tree(project.id, max_bytes=400)
    assert refused.value.code == "too-large" and "(3 clips)" in str(refused.value)
    if db.capabilities.transactions:
        assert counts == []  # both answered from the scenes' numbers: no clip was read or counted
    else:
        assert counts == ["scene_stats", "count_for_project"]  # numbers kept without the scene lock: counted
    counts.clear()
    await services.repositories.scenes.collection.update_one({"id": scene.id}, {"$unset": {"clip_stats": ""}})
    again = await services.projects.tree(project.id, TreeOptions(include_clips=False))
    assert (again.clip_count, again.scenes[0].duration) == (3, 6.0) and counts == ["scene_stats"]
