"""What the FaceFusion worker needs from a runner: run one operation, report progress, store the output.

Implemented by ``integrations/facefusion`` (the FaceFusion CLI) and by test fakes. The worker owns the queue
(claim, heartbeat, completion); the runner owns files and processes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from mcp_storyboard.models.facefusion_jobs import FaceFusionOperation, OperationResult

ProgressReport = Callable[[float], Awaitable[None]]
"""Called with the operation's own progress, 0.0–100.0."""


class OperationRunner(Protocol):
    """Runs one FaceFusion operation to completion."""

    async def run_operation(
        self, operation: FaceFusionOperation, *, index: int, project_id: str, report: ProgressReport
    ) -> OperationResult:
        """Run ``operation`` (the ``index``-th of its job) and store its output in the media store under
        ``project_id``.

        Returns a result with ``success`` False and ``error`` set when the run failed (timeout, non-zero exit,
        missing output: the error carries FaceFusion's stderr tail). Raises only for faults of our own; when
        cancelled (``asyncio.CancelledError``) it stops the FaceFusion process and removes its temporary files.
        """
        ...

    def describe(self) -> str:
        """One line for ``doctor``: what runs the operations, or why nothing can (e.g. FACEFUSION_PATH unset)."""
        ...
