"""A stub ``OperationRunner`` and job helpers for the queue and worker tests.

The stub stores a tiny PNG in the media store for every success, as the real runner stores FaceFusion's output,
and records what it ran, so tests can tell how often each job ran and in which order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from mcp_storyboard.db.media import MediaStore
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.facefusion import FaceFusionJob
from mcp_storyboard.models.facefusion_jobs import FaceFusionJobInput, FaceFusionOperation, OperationResult
from mcp_storyboard.services.facefusion.ports import ProgressReport
from tests.media_samples import png

PROJECT = "p1"


class StubRunner:
    """Runs an operation by sleeping ``seconds`` (and waiting for ``gate`` when set), then storing a PNG.

    ``failures(operation, run_number)`` returns the error of a failed run, or None; ``run_number`` counts this
    input URL's runs from 1.
    """

    def __init__(
        self,
        media: MediaStore,
        *,
        seconds: float = 0.0,
        gate: anyio.Event | None = None,
        failures: Callable[[FaceFusionOperation, int], str | None] = lambda _op, _n: None,
    ) -> None:
        self.media = media
        self.seconds = seconds
        self.gate = gate
        self.failures = failures
        self.started: list[str] = []
        """Input URLs, in the order their runs started."""
        self.cancelled: list[str] = []
        self.running = 0

    async def run_operation(
        self, operation: FaceFusionOperation, *, index: int, project_id: str, report: ProgressReport
    ) -> OperationResult:
        url = operation.input_image_url
        self.started.append(url)
        self.running += 1
        try:
            await report(10.0)
            if self.gate is not None:
                await self.gate.wait()
            await anyio.sleep(self.seconds)
            await report(100.0)
        except BaseException:
            self.cancelled.append(url)
            raise
        finally:
            self.running -= 1
        error = self.failures(operation, self.started.count(url))
        if error is not None:
            return OperationResult(operation_index=index, operation_type=operation.operation_type, success=False,
                                   error=error, processing_time_seconds=self.seconds)
        stored = await self.media.put(png(), content_type="image/png", filename=f"out-{index}.png", project_id=project_id)
        return OperationResult(operation_index=index, operation_type=operation.operation_type, success=True,
                               output_media_id=stored.id, output_url=stored.uri, processing_time_seconds=self.seconds)

    def describe(self) -> str:
        return "stub runner"


def operation(url: str, operation_type: str = "enhance", **parameters: Any) -> FaceFusionOperation:
    return FaceFusionOperation.model_validate(
        {"operation_type": operation_type, "input_image_url": url, "parameters": parameters}
    )


def new_job(*operations: FaceFusionOperation, **fields: Any) -> FaceFusionJob:
    """A queued job of these operations (a batch when there are several)."""
    job_type = operations[0].operation_type if len(operations) == 1 else "batch"
    data = FaceFusionJobInput(operations=list(operations)).model_dump(mode="json")
    return FaceFusionJob.model_validate({"project_id": PROJECT, "job_type": job_type, "input_data": data, **fields})


def new_character(name: str = "Ada") -> Character:
    return Character(project_id=PROJECT, name=name)


async def wait_until(condition: Callable[[], Awaitable[bool]], *, seconds: float = 120.0, poll: float = 0.02) -> None:
    """Poll ``condition`` until it holds; a safety limit, not a timing assertion."""
    with anyio.fail_after(seconds):
        while not await condition():
            await anyio.sleep(poll)
