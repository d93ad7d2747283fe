"""The FaceFusion CLI runner: one operation = one ``facefusion.py headless-run`` in a temporary directory.

Implements :class:`~mcp_storyboard.services.facefusion.ports.OperationRunner` (structurally: integrations do not
import services). Inputs are staged into the
directory (``inputs.py``), the command is built from the operation (``arguments.py``) and run in FaceFusion's
checkout (FaceFusion finds its processors and models relative to it) with a deadline (``process.py``); the output
is stored in the media store under the job's project. The directory is removed whatever happens, cancellation
included. A failed run is a failed :class:`OperationResult` carrying FaceFusion's stderr tail; only faults of our
own raise.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import anyio

from mcp_storyboard.db.media import MediaStore, media_uri
from mcp_storyboard.errors import IntegrationError, NotFoundError, ValidationError
from mcp_storyboard.integrations.facefusion.arguments import HeadlessStep, command_line, plan_operation
from mcp_storyboard.integrations.facefusion.inputs import stage_input
from mcp_storyboard.integrations.facefusion.process import child_environment, run_command
from mcp_storyboard.integrations.media_fetch import MediaFetcher
from mcp_storyboard.models.facefusion_jobs import FaceFusionOperation, OperationResult
from mcp_storyboard.models.media_types import check_content

SCRIPT = "facefusion.py"
ProgressReport = Callable[[float], Awaitable[None]]
"""``services/facefusion/ports.py``'s ProgressReport (integrations do not import services): progress 0.0–100.0."""
_INPUT_ERRORS = (ValidationError, NotFoundError, IntegrationError)


class FaceFusionCliRunner:
    """Runs operations with the FaceFusion 3.8 CLI of a local checkout."""

    def __init__(
        self,
        *,
        facefusion_path: Path,
        python: str,
        media: MediaStore,
        fetcher: MediaFetcher,
        timeout_s: float,
        execution_providers: Sequence[str] = ("cpu",),
        temp_root: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.facefusion_path = facefusion_path.expanduser().resolve()  # absolute: FaceFusion runs with it as cwd
        self.python = python
        self.media = media
        self.fetcher = fetcher
        self.timeout_s = timeout_s
        self.execution_providers = tuple(execution_providers)
        self.temp_root = temp_root
        """Where the per-run directories go (default: the system's temporary directory)."""
        self.environ = environ
        """The environment FaceFusion starts from (default: ours, read at each run), secrets removed."""

    def describe(self) -> str:
        return (f"FaceFusion CLI {self.facefusion_path / SCRIPT} run by {self.python} "
                f"(providers {', '.join(self.execution_providers)}; timeout {self.timeout_s:g} s)")

    async def run_operation(
        self, operation: FaceFusionOperation, *, index: int, project_id: str, report: ProgressReport
    ) -> OperationResult:
        started = time.monotonic()

        def failed(error: str) -> OperationResult:
            return OperationResult(
                operation_index=index, operation_type=operation.operation_type, success=False,
                error=error[:5000], processing_time_seconds=round(time.monotonic() - started, 3),
            )  # fmt: skip

        try:
            step = plan_operation(operation)
        except ValidationError as exc:
            return failed(str(exc))
        if self.temp_root is not None:
            self.temp_root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="facefusion-", dir=self.temp_root))
        try:
            try:
                target, source = await self._stage(step, work)
            except _INPUT_ERRORS as exc:
                return failed(str(exc))
            output = work / f"output{target.suffix}"
            error = await self._run(step, work, target, source, output, report)
            if error is not None:
                return failed(error)
            data = await anyio.to_thread.run_sync(output.read_bytes)  # up to the media limit: off the loop
            try:
                content_type = check_content(data, None, field="output")
                info = await self.media.put(
                    data, content_type=content_type, filename=f"{operation.operation_type}-{index}{target.suffix}",
                    project_id=project_id, metadata={"facefusion_operation": operation.operation_type},
                )  # fmt: skip
            except ValidationError as exc:
                return failed(f"FaceFusion's output could not be stored: {exc}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return OperationResult(
            operation_index=index,
            operation_type=operation.operation_type,
            success=True,
            output_media_id=info.id,
            output_url=media_uri(info.id),
            processing_time_seconds=round(time.monotonic() - started, 3),
        )

    async def _stage(self, step: HeadlessStep, work: Path) -> tuple[Path, Path | None]:
        target = await stage_input(step.target_url, field=step.target_field, name="target", directory=work,
                                   media=self.media, fetcher=self.fetcher)
        source = None
        if step.source_url is not None:
            source = await stage_input(step.source_url, field=step.source_field or "source_face_url", name="source",
                                       directory=work, media=self.media, fetcher=self.fetcher)
        return target, source

    async def _run(
        self, step: HeadlessStep, work: Path, target: Path, source: Path | None, output: Path, report: ProgressReport
    ) -> str | None:
        """None when FaceFusion wrote ``output``; else why not, with its stderr tail."""
        argv = command_line(
            step, python=self.python, script=self.facefusion_path / SCRIPT, target_path=target,
            output_path=output, source_path=source, execution_providers=self.execution_providers, temp_dir=work,
        )  # fmt: skip
        base = dict(os.environ if self.environ is None else self.environ)
        env = child_environment(base)
        secrets = [v for k, v in base.items() if k not in env and v]
        try:
            completed = await run_command(argv, cwd=self.facefusion_path, env=env, timeout_s=self.timeout_s,
                                          report=report, secrets=secrets)
        except OSError as exc:  # the interpreter or the checkout is gone: every run would fail the same way
            return f"FaceFusion could not be started ({self.python} in {self.facefusion_path}): {exc.strerror or exc}"
        tail = completed.stderr_tail.replace(str(work), "<tmp>")
        said = f"; FaceFusion said:\n{tail}" if tail else " (FaceFusion printed nothing on stderr)"
        if completed.returncode is None:
            return f"FaceFusion did not finish within {self.timeout_s:g} s and was stopped{said}"
        if completed.returncode != 0:
            return f"FaceFusion exited with code {completed.returncode}{said}"
        if not output.is_file() or output.stat().st_size == 0:
            return f"FaceFusion exited normally but wrote no output file{said}"
        await report(100.0)
        return None
