"""Parallel calls that hold, on the embedded server (a real wire-protocol database that interleaves calls).

Hosts send several tool calls at once. Each race runs many rounds and asserts no anomaly at all: creates racing
their parent's delete leave no orphans (with transactions, and with the re-check fallback of a backend without
them), concurrent creates return the orders that are stored, and many creates under one parent all succeed within
the retry budget. memory:// is skipped: mongomock never yields, so nothing races there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import InvalidStateError, NotFoundError
from mcp_storyboard.services.clips.results import NewClip
from mcp_storyboard.services.container import Services

ROUNDS = 20


@pytest.fixture(autouse=True)
def _embedded_only(db: Database) -> None:
    if db.backend == "memory":
        pytest.skip("memory:// never interleaves calls (mongomock does not yield), so nothing races there")


async def race(*calls: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run the calls at once; each outcome is its result, or the not-found error it raised (anything else fails)."""
    outcomes: list[Any] = [None] * len(calls)

    async def run(n: int, call: Callable[[], Awaitable[Any]]) -> None:
        try:
            outcomes[n] = await call()
        except NotFoundError as exc:  # the parent was deleted first
            outcomes[n] = exc
        except InvalidStateError as exc:  # a nested create whose parent scene was deleted first
            assert exc.code == "invalid-parent", exc
            outcomes[n] = exc

    async with anyio.create_task_group() as tg:
        for n, call in enumerate(calls):
            tg.start_soon(run, n, call)
    return outcomes


async def left_under(db: Database, project_id: str) -> dict[str, int]:
    """Documents that still name the project, per collection."""
    names = ("scenes", "clips", "characters", "style_templates")
    return {name: await db.collection(name).count_documents({"project_id": project_id}) for name in names}


async def creates_racing_delete_project(services: Services, db: Database) -> tuple[int, int]:
    """ROUNDS rounds of creates of every kind under one project racing its delete; (created, refused) totals."""
    created = refused = 0
    for round_no in range(ROUNDS):
        project = await services.projects.create(f"P{round_no}")
        scene = await services.scenes.create(project.id, name="Base")
        clip = await services.clips.create(scene.id, NewClip(name="c"))
        creates: list[Callable[[], Awaitable[Any]]] = [
            *(lambda n=n: services.scenes.create(project.id, name=f"S{n}") for n in range(4)),
            *(lambda n=n: services.characters.create(project.id, f"C{n}") for n in range(4)),
            lambda: services.scenes.create(project.id, name="Sub", parent_scene_id=scene.id),
            lambda: services.style_templates.create(project.id, "T"),
            lambda: services.clips.create(scene.id, NewClip(name="new")),
            lambda: services.clips.create_alternate(clip.id),
            lambda: services.scenes.create_alternate(scene.id, copy_clips=True),
        ]
        outcomes = await race(*creates, lambda: services.projects.delete(project.id, confirm=True))
        assert not isinstance(outcomes[-1], Exception), outcomes[-1]
        assert await left_under(db, project.id) == {"scenes": 0, "clips": 0, "characters": 0, "style_templates": 0}
        refused += sum(isinstance(o, Exception) for o in outcomes[:-1])
        created += sum(not isinstance(o, Exception) for o in outcomes[:-1])
    return created, refused


@pytest.mark.slow
async def test_creates_racing_delete_project_leave_no_orphans(services: Services, db: Database) -> None:
    created, refused = await creates_racing_delete_project(services, db)
    assert created + refused == ROUNDS * 13


@pytest.mark.slow
async def test_without_transactions_a_create_that_lost_its_parent_removes_what_it_inserted(
    services: Services, db: Database
) -> None:
    # A standalone mongod: the same server, with the service told it has no transactions (the re-check fallback).
    db.capabilities = dataclasses.replace(db.capabilities, transactions=False)
    created, refused = await creates_racing_delete_project(services, db)
    assert created + refused == ROUNDS * 13


@pytest.mark.slow
@pytest.mark.parametrize("transactions", [True, False], ids=["transactions", "re-check"])
async def test_clip_and_sub_scene_creates_racing_delete_scene_leave_no_orphans(
    services: Services, db: Database, transactions: bool
) -> None:
    db.capabilities = dataclasses.replace(db.capabilities, transactions=transactions)
    project = await services.projects.create("P")
    for round_no in range(ROUNDS):
        scene = await services.scenes.create(project.id, name=f"Doomed{round_no}")
        clip = await services.clips.create(scene.id, NewClip(name="c"))
        # Scene creates and clip creates in separate rounds: a clip create writes the scene, which alone would
        # push the delete after the scene creates.
        creates: list[Callable[[], Awaitable[Any]]] = (
            [*(lambda n=n: services.scenes.create(project.id, name=f"Sub{n}", parent_scene_id=scene.id)
               for n in range(6)),
             lambda: services.scenes.create_alternate(scene.id)]
            if round_no % 2 == 0 else
            [*(lambda n=n: services.clips.create(scene.id, NewClip(name=f"n{n}")) for n in range(5)),
             lambda: services.clips.create_alternate(clip.id)]
        )  # fmt: skip
        # The delete starts among the creates, so some run before it and some after.
        await race(*creates[:3], lambda: services.scenes.delete(scene.id, confirm=True), *creates[3:])
        scene_ids = {s.id for s in await services.repositories.scenes.list_for_project(project.id)}
        clips = await services.repositories.clips.list_for_project(project.id)
        assert [c.id for c in clips if c.scene_id not in scene_ids] == []
        scenes = await services.repositories.scenes.list_for_project(project.id)
        assert [s.id for s in scenes if s.parent_scene_id is not None and s.parent_scene_id not in scene_ids] == []


@pytest.mark.slow
async def test_concurrent_appends_return_the_orders_that_are_stored(services: Services) -> None:
    project = await services.projects.create("P")
    parent = await services.scenes.create(project.id, name="Parent")
    for round_no in range(ROUNDS):
        under = parent.id if round_no % 2 else None
        before = len(await services.repositories.scenes.siblings(project.id, under))
        returned = await race(
            *(lambda n=n: services.scenes.create(project.id, name=f"R{round_no}-{n}", parent_scene_id=under)
              for n in range(6))
        )
        stored = {s.id: s.order for s in await services.repositories.scenes.siblings(project.id, under)}
        assert {s.id: s.order for s in returned} == {s.id: stored[s.id] for s in returned}
        assert sorted(stored.values()) == list(range(before + 6))


@pytest.mark.slow
@pytest.mark.parametrize("parent", ["project", "scene"])
async def test_64_parallel_creates_under_one_parent_all_succeed(services: Services, parent: str) -> None:
    project = await services.projects.create("P")
    scene = await services.scenes.create(project.id, name="S")
    if parent == "project":
        made = await race(*(lambda n=n: services.scenes.create(project.id, name=f"S{n}") for n in range(64)))
        assert sorted(s.order for s in made) == list(range(1, 65))
    else:
        made = await race(*(lambda n=n: services.clips.create(scene.id, NewClip(name=f"c{n}")) for n in range(64)))
        assert sorted(c.order for c in made) == list(range(64))
        stored = await services.repositories.clips.list_for_scene(scene.id)
        assert {c.id: c.order for c in made} == {c.id: c.order for c in stored}


async def test_a_touch_changes_the_parent_even_within_one_millisecond(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A touch that wrote the time it found would be skipped by the server and conflict with nothing: two creates
    # touching one parent in the same millisecond would both commit, each having read the same sibling list.
    project = await services.projects.create("P")
    frozen = project.updated_at
    monkeypatch.setattr("mcp_storyboard.repositories.base.utc_now", lambda: frozen)
    seen = []
    for _ in range(3):
        assert await services.repositories.projects.touch(project.id)
        seen.append((await services.repositories.projects.get(project.id)).updated_at)
    assert seen[0] < seen[1] < seen[2]


async def test_delete_project_is_retried_when_its_transaction_conflicts(services: Services, db: Database) -> None:
    project = await services.projects.create("P")
    await services.scenes.create(project.id, name="S")
    attempts = 0
    plain = db.transaction

    def counted() -> Any:
        nonlocal attempts
        attempts += 1
        return plain()

    db.transaction = counted  # type: ignore[method-assign]
    result: list[Any] = []
    with anyio.fail_after(60):
        # Another transaction writes the project and stays open: the delete's write of it conflicts (a
        # TransientTransactionError), so the delete must run again rather than reach the caller as an error.
        async with anyio.create_task_group() as tg:
            async with plain() as session:
                assert await services.repositories.projects.touch(project.id, session=session)

                async def delete() -> None:
                    result.append(await services.projects.delete(project.id, confirm=True))

                tg.start_soon(delete)
                while attempts < 3:  # the delete has failed twice on the held project and runs a third time
                    await anyio.sleep(0.01)
    # The holder committed when its block ended; the delete then went through.
    assert attempts >= 2
    assert result[0].deleted.scenes == 1
    assert not await services.repositories.projects.exists(project.id)
