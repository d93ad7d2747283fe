"""The FaceFusion job queue on the embedded backend: claim throughput, end-to-end latency, idle cost.

- Claim throughput: ``FaceFusionJobRepository.claim_next`` by 1, 4 and 8 concurrent claimers against a raw
  ``find_one_and_update`` loop (same filter, sort and concurrency) on the same database, as a ratio (goal: at
  least 0.8x raw at 8), counting double claims (must be 0).
- Drain: FaceFusionWorkers with a no-op stub runner (1, 4, 8 slots) draining the queue, jobs per second (claim,
  progress, the stub's PNG put, the completion transaction).
- End-to-end latency: a job queued while one worker waits idle, until it is completed, with the stub runner
  (median and max): found by polling, woken in-process (``wake()``), and woken by the change stream (the CLI's
  worker, ``run_with_wakeups``).
- Idle cost: database commands per second sent by a waiting worker (1 and 8 slots) while the queue is empty.

Asserts nothing (shared machines are noisy); prints figures.

    .venv/bin/python tests/benchmarks/bench_queue.py [--jobs 300] [--idle-seconds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
from pymongo import ReturnDocument, monitoring

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mcp_storyboard.cli_worker import run_with_wakeups  # noqa: E402
from mcp_storyboard.config import Settings  # noqa: E402
from mcp_storyboard.db.connection import Database, open_database  # noqa: E402
from mcp_storyboard.db.embedded import EmbeddedServer  # noqa: E402
from mcp_storyboard.db.indexes import ensure_indexes  # noqa: E402
from mcp_storyboard.repositories.bundle import Repositories  # noqa: E402
from mcp_storyboard.repositories.facefusion_jobs import CLAIM_ORDER, FaceFusionJobRepository  # noqa: E402
from mcp_storyboard.services.facefusion.worker import FaceFusionWorker  # noqa: E402
from tests.workers.stubs import StubRunner, new_job, operation  # noqa: E402


class CommandCounter(monitoring.CommandListener):
    """Counts the commands every client sends (registered before the client is made)."""

    def __init__(self) -> None:
        self.commands: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def fill(db: Database, n: int) -> None:
    await db.collection("facefusion_jobs").delete_many({})
    await FaceFusionJobRepository(db).insert_many([new_job(operation(f"https://in.test/{i}.png")) for i in range(n)])


async def claim_all(db: Database, claimers: int, *, raw: bool) -> tuple[float, int, int]:
    """Claims until the queue is empty; (claims per second, claims, double claims)."""
    jobs = FaceFusionJobRepository(db)
    collection = db.collection("facefusion_jobs")
    claimed: list[str] = []

    async def claimer(n: int) -> None:
        while True:
            if raw:
                doc = await collection.find_one_and_update(
                    {"status": "queued"}, {"$set": {"status": "processing", "lease_owner": f"raw{n}"}},
                    sort=list(CLAIM_ORDER), projection={"_id": 0}, return_document=ReturnDocument.AFTER,
                )  # fmt: skip
                job_id = None if doc is None else doc["id"]
            else:
                job = await jobs.claim_next(f"q{n}", 60)
                job_id = None if job is None else job.id
            if job_id is None:
                return
            claimed.append(job_id)

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for n in range(claimers):
            tg.start_soon(claimer, n)
    elapsed = time.perf_counter() - start
    return len(claimed) / elapsed, len(claimed), len(claimed) - len(set(claimed))


async def drain(db: Database, slots: int, n: int) -> float:
    await fill(db, n)
    worker = FaceFusionWorker(Repositories.over(db), StubRunner(db.media), concurrency=slots, worker_name="bench")
    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        while await db.collection("facefusion_jobs").count_documents({"status": "completed"}) < n:
            await anyio.sleep(0.05)
        worker.stop()
    return n / (time.perf_counter() - start)


async def latency(db: Database, rounds: int, *, wake: str) -> list[float]:
    """``wake``: "poll" (the worker finds the job on its next poll), "in-process" (the queueing code wakes it),
    "stream" (the CLI's worker: woken by the change stream's insert event)."""
    await db.collection("facefusion_jobs").delete_many({})
    jobs = FaceFusionJobRepository(db)
    worker = FaceFusionWorker(Repositories.over(db), StubRunner(db.media), worker_name="bench")
    times: list[float] = []
    async with anyio.create_task_group() as tg:
        if wake == "stream":
            tg.start_soon(run_with_wakeups, worker, db)
        else:
            tg.start_soon(worker.run)
        for i in range(rounds):
            await anyio.sleep(2.5 if i == 0 else 1.0 + (i % 4) * 0.37)  # the worker is idle, at some backoff
            start = time.perf_counter()
            job = await jobs.insert(new_job(operation(f"https://in.test/l{i}.png")))
            if wake == "in-process":
                worker.wake()
            while (await jobs.get(job.id)).status != "completed":
                await anyio.sleep(0.005)
            times.append(time.perf_counter() - start)
        worker.stop()
    return times


async def idle_cost(db: Database, counter: CommandCounter, slots: int, seconds: float) -> float:
    await db.collection("facefusion_jobs").delete_many({})
    worker = FaceFusionWorker(Repositories.over(db), StubRunner(db.media), concurrency=slots, worker_name="idle")
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        await anyio.sleep(3.0)  # past the first polls: the backoff has reached its ceiling
        before = sum(counter.commands.values())
        await anyio.sleep(seconds)
        sent = sum(counter.commands.values()) - before
        worker.stop()
    return sent / seconds


async def main(n: int, idle_seconds: float) -> None:
    counter = CommandCounter()
    monitoring.register(counter)
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedServer(Path(data))
        uri = server.start()
        try:
            db = await open_database(Settings(mongodb_uri=uri, db_name="bench_queue"), uri=uri, backend="embedded")
            await ensure_indexes(db)
            print(f"claim throughput, {n} queued jobs (claims/s; ratio queue/raw; double claims)")
            for claimers in (1, 4, 8):
                await fill(db, n)
                raw_rate, raw_count, raw_double = await claim_all(db, claimers, raw=True)
                await fill(db, n)
                rate, count, double = await claim_all(db, claimers, raw=False)
                print(f"  {claimers} claimer(s): raw {raw_rate:7.1f}/s ({raw_count}, {raw_double} double)  "
                      f"queue {rate:7.1f}/s ({count}, {double} double)  ratio {rate / raw_rate:.2f}x")
            print(f"drain with the stub runner, {n} jobs (jobs/s)")
            for slots in (1, 4, 8):
                print(f"  {slots} slot(s): {await drain(db, slots, n):.1f} jobs/s")
            for wake in ("poll", "in-process", "stream"):
                times = await latency(db, 8, wake=wake)
                how = {"poll": "found by polling", "in-process": "woken in-process",
                       "stream": "woken by the change stream"}[wake]
                print(f"end-to-end latency, queued -> completed ({how}): median {statistics.median(times) * 1000:.0f} ms, "
                      f"max {max(times) * 1000:.0f} ms")
            for slots in (1, 8):
                rate = await idle_cost(db, counter, slots, idle_seconds)
                print(f"idle cost, {slots} slot(s), empty queue: {rate:.2f} commands/s")
            await db.client.drop_database("bench_queue")
            await db.close()
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args: Any = parser.parse_args()
    anyio.run(main, args.jobs, args.idle_seconds)
