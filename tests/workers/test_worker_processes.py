"""Four worker processes on one embedded database, one SIGKILLed in the middle of a job.

Each process is ``tests/workers/worker_process.py``: the ``worker`` command's loop with a logging stub runner.
The killed worker's job is re-run by another process once its lease expires, every other job runs exactly once,
and a late result under the killed worker's lease owner id is refused and changes nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import anyio
import pytest

from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.errors import QueueError
from mcp_storyboard.models.facefusion_jobs import FaceFusionJobInput, OperationResult
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.services.facefusion.completion import record_outcome
from tests.conftest import open_test_database
from tests.workers.stubs import new_character, new_job, operation, wait_until

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4
JOBS = 40
LEASE_SECONDS = 3.0


@pytest.mark.slow
async def test_a_killed_worker_process_s_job_reruns_after_its_lease_and_its_late_result_is_refused(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    db = await open_test_database("embedded-pymongo", request)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        await ensure_indexes(db)
        repos = Repositories.over(db)
        jobs = FaceFusionJobRepository(db)
        character = await repos.characters.insert(new_character())
        slow = await jobs.insert(new_job(operation("https://in.test/slow.png"), character_id=character.id, priority=10))
        await jobs.insert_many([new_job(operation(f"https://in.test/{n}.png")) for n in range(JOBS)])
        env = {**os.environ, "MONGODB_URI": request.getfixturevalue("embedded_uri"), "DB_NAME": db.db.name,
               "PYTHONPATH": str(ROOT)}
        for n in range(PROCESSES):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "tests.workers.worker_process", f"proc{n}", str(tmp_path), str(LEASE_SECONDS)],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / f"proc{n}.err").open("wb"),
            ))  # fmt: skip

        async def slow_is_running() -> bool:
            return (await jobs.get(slow.id)).lease_owner is not None

        await wait_until(slow_is_running, seconds=180, poll=0.1)
        held = await jobs.get(slow.id)
        assert held.lease_owner is not None
        victim = int(held.lease_owner.split(".", 1)[0].removeprefix("proc"))
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait()
        (tmp_path / "fast").touch()

        async def all_completed() -> bool:
            return await jobs.count({"status": "completed"}) == JOBS + 1

        await wait_until(all_completed, seconds=300, poll=0.2)
        for n, proc in enumerate(procs):
            if n != victim:
                proc.send_signal(signal.SIGTERM)
        for n, proc in enumerate(procs):
            if n != victim:
                assert await anyio.to_thread.run_sync(proc.wait) == 0, (tmp_path / f"proc{n}.err").read_text()[-2000:]

        runs = Counter(line for log in tmp_path.glob("proc*.log") for line in log.read_text().splitlines())
        assert runs.pop("https://in.test/slow.png") == 2
        assert len(runs) == JOBS and set(runs.values()) == {1}
        rerun = await jobs.get(slow.id)
        assert (rerun.status, rerun.attempts, rerun.lease_owner) == ("completed", 2, None)
        assert (await repos.characters.get(character.id)).facefusion_processing_history[0].success

        # The killed worker's result arrives late: refused, nothing changes.
        character_before = await repos.characters.get(character.id)
        ops = FaceFusionJobInput.model_validate(held.input_data).operations
        late = OperationResult(operation_index=0, operation_type="enhance", success=True, output_media_id="late",
                               output_url="storyboard://media/late")
        with pytest.raises(QueueError, match=f"worker '{held.lease_owner}' does not hold it"):
            await record_outcome(repos, held, held.lease_owner, ops, [late])
        assert await jobs.get(slow.id) == rerun
        assert await repos.characters.get(character.id) == character_before
        assert len(character_before.facefusion_processing_history) == 1
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        await db.client.drop_database(db.db.name)
        await db.close()
