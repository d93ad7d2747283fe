"""Issue-3 figures, one run: MCP overhead for get_clip and get_project_tree (50 scenes x 20 clips) against the
same service call made directly; database commands issued by the tree service call at 1k, 10k and 100k clips;
the byte size of tools/list for the default toolsets and for all. Prints figures and ratios; asserts nothing.

    .venv/bin/python tests/benchmarks/bench_server.py [--rounds 200] [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from mcp import Client
from pymongo import AsyncMongoClient, monitoring

from mcp_storyboard.db.connection import Capabilities, Database
from mcp_storyboard.db.embedded import EmbeddedServer
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.db.media import GridFSMediaStore
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.taxonomy import DEFAULT_TOOLSETS, TOOLSETS
from mcp_storyboard.services.container import Services


class CommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.on = False

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.on:
            self.counts[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def open_counted(uri: str, db_name: str, counter: CommandCounter) -> Database:
    client: AsyncMongoClient = AsyncMongoClient(uri, tz_aware=True, event_listeners=[counter])
    db = client[db_name]
    from gridfs import AsyncGridFSBucket

    return Database(client=client, db=db, backend="embedded", driver="pymongo",
                    capabilities=Capabilities.for_backend("embedded", replica_set=True),
                    media=GridFSMediaStore(db, AsyncGridFSBucket(db, bucket_name="media"), 1 << 20),
                    uri_for_display="embedded", _closers=[client.close])


async def seed(services: Services, scenes: int, clips_per_scene: int) -> tuple[str, str]:
    project = await services.repositories.projects.insert(Project(name=f"bench {scenes}x{clips_per_scene}"))
    scene_docs = [Scene(project_id=project.id, name=f"Scene {i}", order=i) for i in range(scenes)]
    await services.repositories.scenes.insert_many(scene_docs)
    batch: list[Clip] = []
    for scene in scene_docs:
        for j in range(clips_per_scene):
            batch.append(Clip(scene_id=scene.id, project_id=project.id, order=j, timeline_position=j * 5.0,
                              image_prompt="a neon street at night, rain"))
            if len(batch) >= 5000:
                await services.repositories.clips.insert_many(batch)
                batch = []
    await services.repositories.clips.insert_many(batch)
    return project.id, scene_docs[0].id


async def median_ms(call: Callable[[], Awaitable[object]], rounds: int) -> float:
    for _ in range(min(10, rounds)):
        await call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def client_for(services: Services, toolsets: tuple[str, ...]) -> Client:
    @asynccontextmanager
    async def factory() -> AsyncIterator[Services]:
        yield services

    return Client(build_server(factory, toolsets=toolsets))  # type: ignore[arg-type]


async def run(uri: str, rounds: int, sizes: list[int]) -> None:
    counter = CommandCounter()
    database = await open_counted(uri, "bench_server", counter)
    await database.client.drop_database("bench_server")
    await ensure_indexes(database)
    services = Services.over(database)

    project_id, scene_id = await seed(services, 50, 20)
    clip_id = (await services.repositories.clips.list_for_scene(scene_id))[0].id
    async with client_for(services, TOOLSETS) as client:
        direct_clip = await median_ms(lambda: services.clips.get(clip_id), rounds)
        mcp_clip = await median_ms(lambda: client.call_tool("get_clip", {"clip_id": clip_id}), rounds)
        direct_tree = await median_ms(lambda: services.projects.tree(project_id), max(5, rounds // 10))
        mcp_tree = await median_ms(lambda: client.call_tool("get_project_tree", {"project_id": project_id}), max(5, rounds // 10))
        tree_result = await client.call_tool("get_project_tree", {"project_id": project_id})
    print("Latency on embedded SecantusDB + PyMongo async, medians in ms (MCP = in-process Client, 2026 era)")
    print(f"  get_clip          direct {direct_clip:8.2f}   MCP {mcp_clip:8.2f}   MCP/direct {mcp_clip / direct_clip:5.2f}")
    print(f"  get_project_tree  direct {direct_tree:8.2f}   MCP {mcp_tree:8.2f}   MCP/direct {mcp_tree / direct_tree:5.2f}"
          f"   (50 scenes x 20 clips, result {len(json.dumps(tree_result.structured_content))} bytes)")

    print("Database commands issued by one tree service call (projects.tree)")
    for size in sizes:
        await database.client.drop_database("bench_server")
        await ensure_indexes(database)
        project_id, _ = await seed(services, 50, size // 50)
        counter.counts.clear()
        counter.on = True
        start = time.perf_counter()
        tree = await services.projects.tree(project_id)
        seconds = time.perf_counter() - start
        counter.on = False
        queries = sum(n for name, n in counter.counts.items() if name != "getMore")
        async with client_for(services, TOOLSETS) as client:
            narrowed = await client.call_tool("get_project_tree", {"project_id": project_id, "max_clips_per_scene": 20})
            full = await client.call_tool("get_project_tree", {"project_id": project_id})
        print(f"  {size:>7} clips: {queries} queries ({dict(counter.counts)}), {seconds:6.2f} s; clip_count {tree.clip_count}; "
              f"MCP full tree {'refused (too-large)' if full.is_error else 'ok'}, "
              f"narrowed to 20/scene {len(json.dumps(narrowed.structured_content))} bytes")

    print("tools/list byte size")
    for label, toolsets in (("default toolsets", DEFAULT_TOOLSETS), ("all toolsets", TOOLSETS)):
        async with client_for(services, tuple(toolsets)) as client:
            listed = await client.list_tools()
        body = json.dumps(listed.model_dump(mode="json", by_alias=True, exclude_none=True))
        print(f"  {label:17} {len(listed.tools):3} tools  {len(body):7} bytes")
    await database.client.drop_database("bench_server")
    await database.close()


async def main(rounds: int, sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(Path(tmp))
        uri = await anyio.to_thread.run_sync(server.start)
        try:
            await run(uri, rounds, sizes)
        finally:
            await anyio.to_thread.run_sync(server.stop)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    anyio.run(main, args.rounds, [int(s) for s in args.sizes.split(",")])
