"""Writing the outcome of one attempt of a FaceFusion job: the job, and on the final outcome its character.

The rules (``models/facefusion_jobs.py``): an attempt whose operations ALL failed fails (re-queued while attempts
remain, the error being the last operation's); otherwise the job completes, its failures listed in its results. On
the final outcome (completed, or failed with no attempts left) a job with a ``character_id`` pushes one history
entry per operation onto the character, and each success goes to the character's gallery.

Everything is one transaction where the backend has them. The job's update comes first and is conditioned on the
worker's lease, so a worker that lost its lease changes nothing at all: inside a transaction its refusal aborts the
whole write; without transactions (memory://) the character writes simply never start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp_storyboard.models.facefusion import FaceFusionHistoryEntry, FaceFusionJob
from mcp_storyboard.models.facefusion_jobs import FaceFusionJobOutput, FaceFusionOperation, OperationResult
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.characters import GalleryList, record_facefusion_results
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository

GALLERY_LISTS: dict[str, GalleryList] = {
    "enhance": "enhanced_faces",
    "swap": "swapped_faces",
    "edit": "edited_expressions",
    "mask": "custom_outputs",
}
"""Where a success goes in the gallery; age_adjust goes to ``age_variants.<target_age>``, detect nowhere."""
NO_RESULT_ERROR = "the operation reported no error"


def job_output(results: Sequence[OperationResult]) -> FaceFusionJobOutput:
    """The ``output_data`` of an attempt: its results in order, with the counters."""
    succeeded = sum(1 for result in results if result.success)
    return FaceFusionJobOutput(
        results=list(results), completed_operations=succeeded, failed_operations=len(results) - succeeded
    )


def history_entries(
    operations: Sequence[FaceFusionOperation], results: Sequence[OperationResult]
) -> list[FaceFusionHistoryEntry]:
    """One history entry per operation, successes and failures, with the error and the processing time."""
    return [
        FaceFusionHistoryEntry(
            operation_type=result.operation_type,
            input_image_url=operations[result.operation_index].input_image_url,
            output_image_url=result.output_url if result.success else None,
            parameters=operations[result.operation_index].parameters,
            success=result.success,
            error_message=None if result.success else (result.error or NO_RESULT_ERROR),
            processing_time_seconds=max(0.0, result.processing_time_seconds),
        )
        for result in results
    ]


def gallery_additions(
    operations: Sequence[FaceFusionOperation], results: Sequence[OperationResult]
) -> tuple[dict[GalleryList, list[str]], dict[int, str]]:
    """The gallery items of the successes: lists to push to, and age variants to set (the last one per age wins)."""
    lists: dict[GalleryList, list[str]] = {}
    ages: dict[int, str] = {}
    for result in results:
        if not result.success or result.output_url is None:
            continue
        if result.operation_type == "age_adjust":
            target = operations[result.operation_index].parameters.get("target_age")
            if isinstance(target, int) and not isinstance(target, bool):
                ages[target] = result.output_url
        elif (name := GALLERY_LISTS.get(result.operation_type)) is not None:
            lists.setdefault(name, []).append(result.output_url)
    return lists, ages


async def record_outcome(
    repos: Repositories,
    job: FaceFusionJob,
    worker_id: str,
    operations: Sequence[FaceFusionOperation],
    results: Sequence[OperationResult],
) -> FaceFusionJob:
    """Write the outcome of the attempt ``worker_id`` ran on ``job`` (as claimed): one result per operation.

    Returns the job as stored: completed, failed, or queued again for another attempt.

    Raises:
        QueueError: the worker no longer holds the job (its lease expired, or it was cancelled); nothing changed.
        NotFoundError: the job no longer exists; nothing changed.
        ConflictError: the write kept colliding with concurrent transactions.
    """
    jobs = FaceFusionJobRepository(repos.database)
    output = job_output(results)
    stored_output = output.model_dump(mode="json")
    failures = [result for result in results if not result.success]

    async def write(session: Any) -> FaceFusionJob:
        if results and len(failures) == len(results):
            error = failures[-1].error or NO_RESULT_ERROR
            stored = await jobs.fail(job.id, worker_id, error, extra={"output_data": stored_output}, session=session)
        else:
            stored = await jobs.complete(job.id, worker_id, stored_output, session=session)
        if stored.status in ("completed", "failed") and job.character_id is not None:
            lists, ages = gallery_additions(operations, results)
            await record_facefusion_results(
                repos.characters, job.character_id, history_entries(operations, results),
                gallery=lists, age_variants=ages, session=session,
            )  # fmt: skip
        return stored

    return await repos.database.run_transaction(write)
