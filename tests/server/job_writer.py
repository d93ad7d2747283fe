"""Another process that works a FaceFusion job: claims the next queued job of a database and completes it, through
the repository, as a worker on another host would. Prints the job id.

    python -m tests.server.job_writer MONGODB_URI DB_NAME [pymongo|motor]
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository

WORKER = "worker-in-another-process"


async def work_one(uri: str, db_name: str, driver: str) -> str:
    settings = Settings(mongodb_uri=uri, db_name=db_name, driver=driver, data_dir=Path("/nonexistent"))  # type: ignore[arg-type]
    database = await open_database(settings, uri=uri, backend="embedded")
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
    uri, db_name, *rest = sys.argv[1:]
    print(anyio.run(work_one, uri, db_name, rest[0] if rest else "pymongo"))
