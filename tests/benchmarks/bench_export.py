"""Issue-11 figures: timeline export time for a 500-clip project (50 scenes, 10 nested ones, gaps, every 10th clip
with an alternate, selected images, music) per format at 24 fps, split into loading the documents, building the
OTIO timeline and writing the file with the adapter; and the import time of each file back into a project. Also
the time per clip at 100 and 500 clips (linear code: about the same). Prints figures, asserts nothing.

    .venv/bin/python tests/benchmarks/bench_export.py [--clips 500] [--rounds 3] [--backend memory|embedded]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import opentimelineio as otio  # type: ignore[import-untyped]

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import Database, open_database
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.models.clips import Clip, GeneratedMedia
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.export.build import TimelineInput, build_timeline
from mcp_storyboard.services.export.formats import FORMATS, TimelineFormat
from mcp_storyboard.services.export.timing import FrameRate


async def seed(services: Services, clips: int) -> str:
    repos = services.repositories
    project = Project(name=f"Bench {clips}", music_media_id=str(uuid.uuid4()), music_duration=3000.0)
    await repos.projects.insert(project)
    scenes: list[Scene] = []
    per_scene = 10
    for i in range(max(1, clips // per_scene)):
        parent = scenes[i - 1].id if i % 5 == 1 else None  # some nesting
        siblings = sum(1 for s in scenes if s.parent_scene_id == parent)
        scenes.append(Scene(project_id=project.id, name=f"Scene {i}", order=siblings, parent_scene_id=parent))
    await repos.scenes.insert_many(scenes)
    docs: list[Clip] = []
    for n in range(clips):
        scene = scenes[n // per_scene]
        k = n % per_scene
        image = GeneratedMedia(url=f"storyboard://media/{uuid.uuid4()}")
        clip = Clip(project_id=project.id, scene_id=scene.id, name=f"Shot {n}", order=k, timeline_position=k * 3.5,
                    duration=3.0, image_prompt=f"prompt {n}", generated_images=[image], selected_image_id=image.id)
        docs.append(clip)
        if n % 10 == 0:
            docs.append(Clip(project_id=project.id, scene_id=scene.id, name=f"Shot {n} A1", order=k,
                             timeline_position=clip.timeline_position, duration=3.0, alternate_of=clip.id,
                             alternate_number=1))
    await repos.clips.insert_many(docs)
    return project.id


async def best(rounds: int, fn: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - start)
    return min(times)


async def run(database: Database, clips: int, rounds: int) -> None:
    await ensure_indexes(database)
    services = Services.over(database)
    timelines = services.timelines
    project_id = await seed(services, clips)
    data = await timelines.load(project_id)
    load = await best(rounds, lambda: timelines.load(project_id))
    print(f"{clips} clips on {database.backend}: load documents {load * 1000:.1f} ms")
    print(f"{'format':9} {'build':>9} {'write':>9} {'export':>9} {'import':>9} {'bytes':>9}  ms/clip(export)")
    for fmt in FORMATS:
        await bench_format(services, data, project_id, fmt, rounds, clips)


async def bench_format(services: Services, data: TimelineInput, project_id: str, fmt: TimelineFormat, rounds: int,
                       clips: int) -> None:
    timelines, caps, rate = services.timelines, FORMATS[fmt], FrameRate.named("24")
    built = build_timeline(data, rate, include_alternates=caps.keeps_alternates)
    exported = await timelines.export(project_id, fmt, "24")
    size = (await services.database.media.info(exported.id)).size

    async def build() -> object:
        return build_timeline(data, rate, include_alternates=caps.keeps_alternates)

    async def write() -> object:
        return otio.adapters.write_to_string(built.timeline, caps.adapter)

    async def export() -> object:
        return await timelines.export(project_id, fmt, "24")

    async def reimport() -> object:
        return await timelines.import_file(media_id=exported.id, rate_name="24" if fmt == "edl" else None)

    b, w, e = await best(rounds, build), await best(rounds, write), await best(rounds, export)
    i = await best(1, reimport)
    print(f"{fmt:9} {b * 1000:8.1f}ms {w * 1000:8.1f}ms {e * 1000:8.1f}ms {i * 1000:8.1f}ms {size:9d}  "
          f"{e * 1000 / clips:.3f}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["memory", "embedded"], default="memory")
    args = parser.parse_args()
    sizes = sorted({100, args.clips})
    for clips in sizes:
        if args.backend == "memory":
            database = await open_database(Settings(mongodb_uri="memory://", db_name=f"bench_{clips}"))
            try:
                await run(database, clips, args.rounds)
            finally:
                await database.close()
        else:
            from mcp_storyboard.db.embedded import EmbeddedServer

            with tempfile.TemporaryDirectory() as tmp:
                server = EmbeddedServer(Path(tmp))
                uri = server.start()
                try:
                    settings = Settings(mongodb_uri=uri, db_name=f"bench_{clips}", data_dir=Path(tmp))
                    database = await open_database(settings, uri=uri, backend="embedded")
                    try:
                        await run(database, clips, args.rounds)
                    finally:
                        await database.close()
                finally:
                    server.stop()


if __name__ == "__main__":
    asyncio.run(main())
