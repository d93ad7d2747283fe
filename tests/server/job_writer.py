"""Another process that works a FaceFusion job: claims the next queued job of a database and completes it, through
the repository, as a worker on another host would. Prints the job id.

    python -m tests.server.job_writer MONGODB_URI DB_NAME [pymongo|motor]

With ``--on-request`` (the benchmark's mode) it changes the job named by each line read from stdin instead, and
prints the wall-clock time just before each write.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import anyio

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import Database, open_database
from mcp_storyboard.models.facefusion import FaceFusionJobPatch
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository

WORKER = "worker-in-another-process"


async def opened(uri: str, db_name: str, driver: str) -> Database:
    settings = Settings(mongodb_uri=uri, db_name=db_name, driver=driver, data_dir=Path("/nonexistent"))  # type: ignore[arg-type]
    return await open_database(settings, uri=uri, backend="embedded")


async def change_on_request(uri: str, db_name: str, driver: str) -> None:
    database = await opened(uri, db_name, driver)
    jobs = FaceFusionJobRepository(database)
    try:
        n = 0
        while line := await anyio.to_thread.run_sync(sys.stdin.readline):
            n += 1
            print(time.time(), flush=True)
            await jobs.apply_patch(line.strip(), FaceFusionJobPatch(max_attempts=1 + n % 9))
    finally:
        await database.close()


async def work_one(uri: str, db_name: str, driver: str) -> str:
    database = await opened(uri, db_name, driver)
    try:
        jobs = FaceFusionJobRepository(database)
        job = await jobs.claim_next(WORKER, 60)
        if job is None:
            raise SystemExit("no queued job")
        await jobs.complete(job.id, WORKER, {"results": [], "completed": 0, "failed": 0})
        return job.id
    finally:
        await database.close()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--on-request"]
    uri, db_name, *rest = args
    driver = rest[0] if rest else "pymongo"
    if "--on-request" in sys.argv:
        anyio.run(change_on_request, uri, db_name, driver)
    else:
        print(anyio.run(work_one, uri, db_name, driver))
