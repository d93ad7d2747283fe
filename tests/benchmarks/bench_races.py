"""How hard parallel creates under one parent lean on the transaction retry budget, on the embedded backend.

n parallel ``create_scene`` under one project (and n ``create_clip`` under one scene) all commit one at a time,
since each writes the parent; this prints the wall time, the transaction attempts per create (median, max) and the
time per create. Asserts nothing (shared machines are noisy).

    .venv/bin/python tests/benchmarks/bench_races.py [--n 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import anyio

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import Database, open_database
from mcp_storyboard.db.embedded import EmbeddedServer
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.services.clips.results import NewClip
from mcp_storyboard.services.container import Services

_attempts: ContextVar[list[int]] = ContextVar("attempts", default=[0])  # noqa: B039 (setup calls share it)


def count_attempts(database: Database) -> None:
    """Count every transaction started by the current task (each task gets its own counter)."""
    plain = database.transaction

    @asynccontextmanager
    async def counted() -> AsyncIterator[Any]:
        _attempts.get()[0] += 1
        async with plain() as session:
            yield session

    database.transaction = counted  # type: ignore[method-assign]


async def parallel(n: int, create: Callable[[int], Awaitable[object]]) -> tuple[float, list[int]]:
    counts: list[int] = []

    async def one(i: int) -> None:
        box = [0]
        _attempts.set(box)
        await create(i)
        counts.append(box[0])

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for i in range(n):
            tg.start_soon(one, i)
    return time.perf_counter() - start, counts


async def main(n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedServer(Path(data))
        uri = server.start()
        try:
            database = await open_database(Settings(mongodb_uri=uri, db_name="bench_races"), uri=uri, backend="embedded")
            await ensure_indexes(database)
            count_attempts(database)
            services = Services.over(database)
            for round_no in range(rounds):
                project = await services.projects.create(f"P{round_no}")
                scene = await services.scenes.create(project.id, name="S")
                for label, create in (
                    ("create_scene under one project", lambda i: services.scenes.create(project.id, name=f"S{i}")),
                    ("create_clip under one scene", lambda i: services.clips.create(scene.id, NewClip(name=f"c{i}"))),
                ):
                    seconds, counts = await parallel(n, create)
                    print(f"round {round_no} {label:32} n={n}: {seconds:6.2f} s, {seconds / n * 1000:6.1f} ms/create, "
                          f"attempts median {statistics.median(counts):.0f} max {max(counts)}")
            await database.close()
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    anyio.run(main, args.n, args.rounds)
