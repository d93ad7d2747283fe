"""One worker process for ``test_worker_processes.py``:
``python -m tests.workers.worker_process NAME LOG_DIR LEASE_SECONDS``.

It opens the services on ``MONGODB_URI`` / ``DB_NAME`` (the test's embedded database) and runs the ``worker``
command's loop (``cli_worker.run_worker``: a FaceFusionWorker until SIGTERM) with a stub runner instead of
FaceFusion. The runner appends each input URL it starts to ``LOG_DIR/NAME.log``; an input whose URL contains
"slow" runs until the file ``LOG_DIR/fast`` exists, so the test can kill a process in the middle of it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

from mcp_storyboard.cli_worker import WorkerOptions, run_worker
from mcp_storyboard.config import Settings
from mcp_storyboard.models.facefusion_jobs import FaceFusionOperation, OperationResult
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.facefusion.ports import ProgressReport
from tests.media_samples import png


class LoggingStubRunner:
    def __init__(self, services: Services, log: Path, fast: Path) -> None:
        self.media = services.database.media
        self.log = log
        self.fast = fast

    async def run_operation(
        self, operation: FaceFusionOperation, *, index: int, project_id: str, report: ProgressReport
    ) -> OperationResult:
        url = operation.input_image_url
        with self.log.open("a") as log:
            log.write(url + "\n")
        await report(10.0)
        await anyio.sleep(0.02)
        while "slow" in url and not self.fast.exists():
            await anyio.sleep(0.05)
        stored = await self.media.put(png(), content_type="image/png", filename="out.png", project_id=project_id)
        return OperationResult(operation_index=index, operation_type=operation.operation_type, success=True,
                               output_media_id=stored.id, output_url=stored.uri)

    def describe(self) -> str:
        return "logging stub runner"


def main() -> int:
    name, log_dir, lease = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    options = WorkerOptions(concurrency=1, lease_seconds=lease, name=name, queues=("facefusion",))

    def runner(_settings: Settings, services: Services) -> LoggingStubRunner:
        return LoggingStubRunner(services, log_dir / f"{name}.log", log_dir / "fast")

    def ready(_worker: object) -> None:
        print("ready", flush=True)

    return anyio.run(lambda: run_worker(Settings.from_env(), options, runner_factory=runner, ready=ready))


if __name__ == "__main__":
    sys.exit(main())
