"""Orders stay dense after every operation: main scenes 0..n-1 per (project, parent), clips 0..n-1 per scene.

A property test drives random sequences of scene and clip operations (create, delete, move, reorder, alternates
with copied clips, promote) on memory:// (each example on a fresh database, so it runs in seconds) and checks the
orders after each one; a fixed case runs the regression (copied clips left gaps where clip alternates were skipped)
on every backend.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import TypeVar

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.errors import StoryboardError
from mcp_storyboard.services.clips.results import NewClip
from mcp_storyboard.services.container import Services

T = TypeVar("T")
Step = tuple[str, int, int, int | None]
"""An operation, two picks (indexes into the current scenes or clips, taken modulo their count) and a position."""
OPS = (
    "create_scene", "delete_scene", "move_scene", "reorder_scenes", "create_alternate_scene", "promote",
    "create_clip", "create_clip_alternate", "delete_clip", "move_clip", "reorder_clips",
)  # fmt: skip
WEIGHTED = (*OPS, "create_scene", "create_clip", "create_clip", "create_clip_alternate", "create_alternate_scene")
"""The creates twice as likely: most orderings need something to order."""


async def gaps(services: Services, project_id: str) -> list[str]:
    """Every sibling list or scene whose orders are not 0..n-1, described; empty when all are dense."""
    scenes = await services.repositories.scenes.list_for_project(project_id)
    found: list[str] = []
    siblings: dict[str | None, list[int]] = defaultdict(list)
    for scene in scenes:
        if not scene.is_alternate:
            siblings[scene.parent_scene_id].append(scene.order)
    found += [f"scenes under {p}: {sorted(o)}" for p, o in siblings.items() if sorted(o) != list(range(len(o)))]
    for scene in scenes:
        orders = sorted(c.order for c in await services.repositories.clips.list_for_scene(scene.id))
        if orders != list(range(len(orders))):
            found.append(f"clips of {scene.name}: {orders}")
    return found


async def apply(services: Services, project_id: str, step: Step) -> None:
    """One operation on the scenes and clips it picks; a refusal is a valid outcome."""
    op, first, second, position = step
    scenes = await services.repositories.scenes.list_for_project(project_id)
    clips = await services.repositories.clips.list_for_project(project_id)
    main = [s for s in scenes if not s.is_alternate]
    alternates = [s for s in scenes if s.is_alternate]
    pick = random.Random(first * 31 + second)  # for shuffles only

    def one(items: Sequence[T], index: int = first, *, or_none: bool = False) -> T | None:
        options = [*items, None] if or_none else list(items)
        return options[index % len(options)] if options else None

    try:
        if op == "create_scene":
            parent = one(main, or_none=True)
            await services.scenes.create(project_id, name=f"S{len(scenes)}",
                                         parent_scene_id=parent.id if parent else None, position=position)
        elif op == "delete_scene" and (doomed := one(scenes)):
            await services.scenes.delete(doomed.id, confirm=True)
        elif op == "move_scene" and (moving := one(main)):
            target = one(main, second, or_none=True)
            await services.scenes.move(moving.id, parent_scene_id=target.id if target else None,
                                       to_top_level=target is None, position=position)
        elif op == "reorder_scenes":
            parent = one(main, or_none=True)
            ids = [s.id for s in await services.repositories.scenes.siblings(project_id, parent.id if parent else None)]
            pick.shuffle(ids)
            await services.scenes.reorder(project_id, ids, parent_scene_id=parent.id if parent else None)
        elif op == "create_alternate_scene" and (source := one(scenes)):
            await services.scenes.create_alternate(source.id, copy_clips=second % 4 != 0)
        elif op == "promote" and (alternate := one(alternates)):
            await services.scenes.promote_alternate(alternate.id)
        elif op == "create_clip" and (where := one(scenes)):
            await services.clips.create(where.id, NewClip(name=f"c{len(clips)}"), order=position)
        elif op == "create_clip_alternate" and (original := one(clips)):
            await services.clips.create_alternate(original.id)
        elif op == "delete_clip" and (gone := one(clips)):
            await services.clips.delete(gone.id, confirm=True)
        elif op == "move_clip" and (moved := one(clips)) and (target_scene := one(scenes, second)):
            await services.clips.move(moved.id, scene_id=target_scene.id, order=position, allow_overlap=True)
        elif op == "reorder_clips" and (where := one(scenes)):
            ids = [c.id for c in await services.repositories.clips.list_for_scene(where.id)]
            pick.shuffle(ids)
            await services.clips.reorder(where.id, ids)
    except StoryboardError:
        pass


async def run_sequence(steps: list[Step]) -> None:
    database = await open_database(Settings(mongodb_uri="memory://", db_name="dense"))
    try:
        await ensure_indexes(database)
        services = Services.over(database)
        project = await services.projects.create("P")
        # A start with something of everything (a sub-scene, clip alternates between main clips), so short
        # sequences already reach the interesting cases.
        a = await services.scenes.create(project.id, name="A")
        b = await services.scenes.create(project.id, name="B")
        sub = await services.scenes.create(project.id, name="A.1", parent_scene_id=a.id)
        for scene in (a, b, sub):
            made = [await services.clips.create(scene.id, NewClip(name=f"{scene.name}/{n}")) for n in range(3)]
            await services.clips.create_alternate(made[0].id)
        for n, step in enumerate(steps):
            await apply(services, project.id, step)
            assert await gaps(services, project.id) == [], f"after step {n} {step} of {steps}"
    finally:
        await database.close()


STEPS = st.tuples(st.sampled_from(WEIGHTED), st.integers(0, 7), st.integers(0, 7), st.sampled_from([None, 0, 1, 2]))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEPS, min_size=1, max_size=25))
def test_orders_are_dense_after_every_operation(steps: list[Step]) -> None:
    anyio.run(run_sequence, steps)


async def test_clips_copied_into_an_alternate_scene_are_numbered_without_gaps(services: Services) -> None:
    project = await services.projects.create("P")
    scene = await services.scenes.create(project.id, name="S")
    first = await services.clips.create(scene.id, NewClip(name="a"))
    await services.clips.create_alternate(first.id)  # order 1: skipped by the copy
    await services.clips.create(scene.id, NewClip(name="b"))
    alternate = await services.scenes.create_alternate(scene.id, copy_clips=True)
    stored = await services.repositories.clips.list_for_scene(alternate.id)
    assert [(c.name, c.order) for c in stored] == [("a", 0), ("b", 1)]
    assert [(c.name, c.order) for c in alternate.clips] == [("a", 0), ("b", 1)]
