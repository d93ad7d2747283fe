"""The generation worker's own cost per item on the embedded backend, with a stub runner that answers at once.

- Worker: a batch of N items queued, until it is finished, divided by N: claim, choosing a server (servers list and
  the running-prompt count), the running-prompt write, the media put, the result with its gallery entry (one
  transaction), the finish.
- Direct: the same stored effects written straight, item by item (media put, ``record_result`` and ``add_media``
  in one transaction), with no claim, dispatch or running-prompt bookkeeping.
- The ratio worker/direct is the dispatch overhead. ``worker_seconds_per_item`` is the hook a benchmark of the real
  ComfyUI runner calls with that runner to add the worker's share to a submit+poll+view figure.

Asserts nothing (shared machines are noisy); prints figures. Measured (2 shared cores, other test runs going):
30 items, median of 3: worker 274 ms, direct 163 ms per item, ratio 1.68x (111 ms of claim, server choice and
running-prompt writes per item); before the items' writes to their batch were serialised (``BatchRun.writes``) the
worker took 346 ms per item against 201 ms (1.72x), its transactions colliding on the batch document.

    .venv/bin/python tests/benchmarks/bench_generation_worker.py [--items 60] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mcp_storyboard.config import Settings  # noqa: E402
from mcp_storyboard.db.connection import Database, open_database  # noqa: E402
from mcp_storyboard.db.embedded import EmbeddedServer  # noqa: E402
from mcp_storyboard.db.indexes import ensure_indexes  # noqa: E402
from mcp_storyboard.models.generation import BatchResult  # noqa: E402
from mcp_storyboard.repositories.comfyui_servers import ComfyUIServerRepository  # noqa: E402
from mcp_storyboard.repositories.generation_batches import GenerationBatchRepository  # noqa: E402
from mcp_storyboard.services.container import Services  # noqa: E402
from mcp_storyboard.services.generation.completion import gallery_entry  # noqa: E402
from mcp_storyboard.services.generation.ports import PromptRunner  # noqa: E402
from mcp_storyboard.services.generation.worker import GenerationWorker  # noqa: E402
from tests.media_samples import png  # noqa: E402
from tests.seed import seed_clip, seed_project  # noqa: E402
from tests.workers.generation_stubs import StubPromptRunner, item, new_batch, online_server  # noqa: E402


async def worker_seconds_per_item(db: Database, runner: PromptRunner, items: int, *, max_concurrent: int = 8,
                                  server_url: str | None = None) -> float:
    """Seconds per item for one batch of ``items`` through a GenerationWorker with ``runner`` (the hook)."""
    services = Services.over(db)
    project = await seed_project(services, f"Bench {time.monotonic_ns()}")
    clips = [(await seed_clip(services, project, f"Shot {n}")).id for n in range(items)]
    servers = ComfyUIServerRepository(db)
    if await servers.find_by_url(server_url or "http://127.0.0.1:8188") is None:
        stored = await online_server(servers, "Bench", max_concurrent=max_concurrent)
        if server_url is not None:
            await servers.update_fields(stored.id, {"url": server_url})
    batches = GenerationBatchRepository(db)
    worker = GenerationWorker(services.repositories, runner, worker_name="bench", check_seconds=None)
    started = time.perf_counter()
    batch = await batches.insert(new_batch(project, [item(c) for c in clips]))
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        while (await batches.get(batch.id)).status in ("queued", "processing"):
            await anyio.sleep(0.005)
        worker.stop()
    return (time.perf_counter() - started) / items


async def direct_seconds_per_item(db: Database, items: int) -> float:
    """The same stored effects per item, written straight (no claim, dispatch or running-prompt writes)."""
    services = Services.over(db)
    project = await seed_project(services, f"Direct {time.monotonic_ns()}")
    clips = [(await seed_clip(services, project, f"Shot {n}")).id for n in range(items)]
    servers = ComfyUIServerRepository(db)
    server = await servers.find_by_url("http://127.0.0.1:8188") or await online_server(servers, "Bench")
    batches = GenerationBatchRepository(db)
    batch = await batches.insert(new_batch(project, [item(c) for c in clips]))
    await batches.claim_next("direct", 60)
    started = time.perf_counter()
    for clip in clips:
        generated = item(clip)
        info = await db.media.put(png(2, 2), content_type="image/png", filename="out.png", project_id=project)
        entry = gallery_entry(generated, info, server)

        async def write(session: Any, clip: str = clip, entry: Any = entry) -> None:
            result = BatchResult(clip_id=clip, url=entry.url, media_id=entry.media_id, gallery_entry_id=entry.id)
            await batches.record_result(batch.id, "direct", result, session=session)
            await services.repositories.clips.add_media(clip, "image", entry, session=session)

        await db.run_transaction(write)
    await batches.finish(batch.id, "direct")
    return (time.perf_counter() - started) / items


async def main(items: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedServer(Path(data))
        uri = server.start()
        try:
            db = await open_database(Settings(mongodb_uri=uri, db_name="bench_generation"), uri=uri, backend="embedded")
            await ensure_indexes(db)
            worker_times = [await worker_seconds_per_item(db, StubPromptRunner(), items) for _ in range(rounds)]
            direct_times = [await direct_seconds_per_item(db, items) for _ in range(rounds)]
            w, d = statistics.median(worker_times), statistics.median(direct_times)
            print(f"per item, batches of {items}, median of {rounds} (embedded, stub runner answering at once)")
            print(f"  worker (claim, dispatch, running prompt, media, result + gallery, finish): {w * 1000:.1f} ms")
            print(f"  direct (media, result + gallery):                                         {d * 1000:.1f} ms")
            print(f"  ratio worker/direct: {w / d:.2f}x; dispatch overhead {max(0.0, w - d) * 1000:.1f} ms per item")
            await db.close()
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    anyio.run(main, args.items, args.rounds)
