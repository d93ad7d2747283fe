"""Repository get/list latency and throughput on the embedded backend, PyMongo async vs Motor, side by side,
each against the raw driver call it wraps. Prints medians and ratios; asserts nothing (shared machines are noisy).

    .venv/bin/python tests/benchmarks/bench_repositories.py [--n 2000] [--rounds 500]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.db.embedded import EmbeddedServer
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.repositories.clips import ClipRepository


async def median_us(call: Callable[[], Awaitable[object]], rounds: int) -> float:
    for _ in range(min(50, rounds)):  # warm the pool and caches
        await call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


async def bench_driver(uri: str, driver: str, n: int, rounds: int) -> dict[str, float]:
    settings = Settings(mongodb_uri=uri, db_name=f"bench_{driver}", driver=driver)  # type: ignore[arg-type]
    database = await open_database(settings, uri=uri, backend="embedded")
    try:
        await database.client.drop_database(settings.db_name)
        await ensure_indexes(database)
        repo = ClipRepository(database)
        clips = [Clip(scene_id="s1", project_id="p1", order=i, timeline_position=i * 5.0) for i in range(n)]
        await repo.insert_many(clips)
        target = clips[n // 2].id
        raw = database.collection("clips")
        results = {
            "get (repository)": await median_us(lambda: repo.get(target), rounds),
            "get (raw find_one)": await median_us(lambda: raw.find_one({"id": target}, {"_id": 0}), rounds),
            "list 50 (repository)": await median_us(lambda: repo.page_for_scene("s1", limit=50), rounds // 5),
            "list 50 (raw find)": await median_us(
                lambda: raw.find({"scene_id": "s1"}, {"_id": 0}).sort([("scene_id", 1), ("order", 1), ("id", 1)]).limit(51).to_list(None),
                rounds // 5,
            ),
        }
        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for clip in clips[:rounds]:
                tg.start_soon(repo.get, clip.id)
        results["get throughput (ops/s, 1 task each)"] = rounds / (time.perf_counter() - start)
        return results
    finally:
        await database.client.drop_database(settings.db_name)
        await database.close()


async def main(n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(Path(tmp))
        uri = await anyio.to_thread.run_sync(server.start)
        try:
            by_driver = {d: await bench_driver(uri, d, n, rounds) for d in ("pymongo", "motor")}
        finally:
            await anyio.to_thread.run_sync(server.stop)
    print(f"embedded SecantusDB, {n} clips, {rounds} rounds; medians in microseconds")
    print(f"{'measure':40} {'pymongo':>10} {'motor':>10} {'motor/pymongo':>14}")
    for key in by_driver["pymongo"]:
        p, m = by_driver["pymongo"][key], by_driver["motor"][key]
        print(f"{key:40} {p:10.0f} {m:10.0f} {m / p:14.2f}")
    for driver, figures in by_driver.items():
        print(f"{driver}: repository/raw get {figures['get (repository)'] / figures['get (raw find_one)']:.2f}, "
              f"list {figures['list 50 (repository)'] / figures['list 50 (raw find)']:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=500)
    args = parser.parse_args()
    anyio.run(main, args.n, args.rounds)
