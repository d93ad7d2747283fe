"""The cost of queueing generation on the embedded database: ``generate_batch`` of N clips (clips read in one query;
each character, template, model and preset once) against N single-clip ``generate_clip`` calls (every read per
clip), per clip. Every clip has a character and a style template and names the same model, so the prompt is
composed and the preset read. Prints medians and the ratio; asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_generation_queue [--clips 100] [--rounds 5]

Measured (2 shared cores under other test runs, 100 clips, 3 rounds): generate_batch 3.3 ms per clip,
generate_clip 111 ms per clip (ratio 33). A single clip's resolution is ~15-20 ms; the rest is the embedded
server's acknowledged insert, which a batch pays once.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import anyio

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.db.embedded import EmbeddedServer
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.generation.requests import ClipRequest, GenerationSettings
from tests.seed import seed_clip
from tests.tools.generation_world import generation_world


async def main(clips: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        server = EmbeddedServer(Path(data_dir) / "db")
        uri = server.start()
        try:
            database = await open_database(Settings(mongodb_uri=uri, db_name="bench_generation"), uri=uri,
                                           backend="embedded")
            await ensure_indexes(database)
            services = Services.over(database)
            w = await generation_world(services)
            ids = [(await seed_clip(services, w.project_id, f"Shot {n}", image_prompt=f"shot {n}",
                                    character_id=w.character_id, style_template_id=w.template_id)).id
                   for n in range(clips)]
            requests = [ClipRequest(clip_id=i) for i in ids]
            settings = GenerationSettings(model_id=w.model_id)
            batch_ms: list[float] = []
            single_ms: list[float] = []
            for _ in range(rounds):
                start = time.perf_counter()
                await services.generation.generate_batch(w.project_id, requests, settings)
                batch_ms.append((time.perf_counter() - start) * 1000 / clips)
                start = time.perf_counter()
                for request in requests:
                    await services.generation.generate_clip(request, settings)
                single_ms.append((time.perf_counter() - start) * 1000 / clips)
            batch, single = statistics.median(batch_ms), statistics.median(single_ms)
            print(f"{clips} clips, {rounds} rounds, median ms per clip")
            print(f"{'generate_batch':>15} {'generate_clip':>14} {'ratio':>6}")
            print(f"{batch:>15.2f} {single:>14.2f} {single / batch:>6.1f}")
            await database.close()
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    anyio.run(main, arguments.clips, arguments.rounds)
