"""The completion write (``services/facefusion/completion.py``), on every backend: the job's outcome, and on the
final outcome the character's history and gallery; a worker that lost its lease changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import QueueError
from mcp_storyboard.models.common import utc_now
from mcp_storyboard.models.facefusion_jobs import FaceFusionOperation, OperationResult
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.services.facefusion.completion import record_outcome
from tests.workers.stubs import new_character, new_job, operation


def ok(index: int, op: FaceFusionOperation, media_id: str) -> OperationResult:
    return OperationResult(operation_index=index, operation_type=op.operation_type, success=True,
                           output_media_id=media_id, output_url=f"storyboard://media/{media_id}",
                           processing_time_seconds=1.5)


def ko(index: int, op: FaceFusionOperation, error: str) -> OperationResult:
    return OperationResult(operation_index=index, operation_type=op.operation_type, success=False, error=error,
                           processing_time_seconds=0.5)


async def test_a_completed_batch_writes_history_and_the_gallery_of_every_operation_type(db: Database) -> None:
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    character = await repos.characters.insert(new_character())
    ops = [
        operation("https://in.test/a.png", "enhance", face_enhancer_blend=0.8),
        operation("https://in.test/b.png", "age_adjust", target_age=40),
        operation("https://in.test/c.png", "swap"),
        operation("https://in.test/d.png", "edit"),
        operation("https://in.test/e.png", "mask"),
        operation("https://in.test/f.png", "detect"),
        operation("https://in.test/g.png", "swap"),
    ]
    stored = await jobs.insert(new_job(*ops, character_id=character.id))
    claimed = await jobs.claim_next("w1", 60)
    assert claimed is not None
    results = [ok(i, op, f"m{i}") for i, op in enumerate(ops[:-1])] + [ko(6, ops[6], "no face in the source")]
    done = await record_outcome(repos, claimed, "w1", ops, results)
    assert (done.id, done.status, done.progress, done.lease_owner, done.error_message) == (stored.id, "completed", 100.0, None, None)
    assert done.output_data is not None
    assert (done.output_data["completed_operations"], done.output_data["failed_operations"]) == (6, 1)
    after = await repos.characters.get(character.id)
    history = after.facefusion_processing_history
    assert [(h.operation_type, h.success, h.input_image_url) for h in history] == [
        (op.operation_type, i < 6, op.input_image_url) for i, op in enumerate(ops)]
    assert history[0].parameters == {"face_enhancer_blend": 0.8} and history[0].processing_time_seconds == 1.5
    assert history[6].output_image_url is None and history[6].error_message == "no face in the source"
    gallery = after.facefusion_output_gallery
    assert gallery.enhanced_faces == ["storyboard://media/m0"]
    assert gallery.age_variants == {40: "storyboard://media/m1"}
    assert gallery.swapped_faces == ["storyboard://media/m2"]
    assert gallery.edited_expressions == ["storyboard://media/m3"]
    assert gallery.custom_outputs == ["storyboard://media/m4"]


async def test_all_operations_failing_retries_without_history_then_fails_with_history(db: Database) -> None:
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    character = await repos.characters.insert(new_character())
    ops = [operation("https://in.test/a.png"), operation("https://in.test/b.png", "detect")]
    stored = await jobs.insert(new_job(*ops, character_id=character.id, max_attempts=2))
    for attempt, (worker, status) in enumerate((("w1", "queued"), ("w2", "failed")), start=1):
        claimed = await jobs.claim_next(worker, 60)
        assert claimed is not None and claimed.attempts == attempt
        results = [ko(0, ops[0], "face not found"), ko(1, ops[1], f"exit 1 on attempt {attempt}")]
        after = await record_outcome(repos, claimed, worker, ops, results)
        assert (after.status, after.error_message) == (status, f"exit 1 on attempt {attempt}")
        assert after.output_data is not None and after.output_data["failed_operations"] == 2
        history = (await repos.characters.get(character.id)).facefusion_processing_history
        assert len(history) == (0 if status == "queued" else 2)
    final = await jobs.get(stored.id)
    assert final.completed_at is not None and final.lease_owner is None
    history = (await repos.characters.get(character.id)).facefusion_processing_history
    assert [h.error_message for h in history] == ["face not found", "exit 1 on attempt 2"]
    assert (await repos.characters.get(character.id)).facefusion_output_gallery.enhanced_faces == []


async def test_a_late_report_from_a_worker_that_lost_its_lease_changes_nothing(db: Database) -> None:
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    character = await repos.characters.insert(new_character())
    ops = [operation("https://in.test/a.png")]
    await jobs.insert(new_job(*ops, character_id=character.id))
    lost = await jobs.claim_next("w1", 5)
    assert lost is not None
    await jobs.requeue_expired(utc_now() + timedelta(seconds=30))
    for holder in (None, "w2"):  # re-queued, then re-claimed by another worker
        if holder:
            await jobs.claim_next(holder, 60)
        job_before = await jobs.get(lost.id)
        character_before = await repos.characters.get(character.id)
        with pytest.raises(QueueError, match="worker 'w1' does not hold it"):
            await record_outcome(repos, lost, "w1", ops, [ok(0, ops[0], "late")])
        assert await jobs.get(lost.id) == job_before
        assert await repos.characters.get(character.id) == character_before
    done = await record_outcome(repos, lost, "w2", ops, [ok(0, ops[0], "fresh")])
    assert done.status == "completed"
    with pytest.raises(QueueError, match="it is completed"):
        await record_outcome(repos, lost, "w1", ops, [ko(0, ops[0], "late failure")])
    after = await repos.characters.get(character.id)
    assert [h.output_image_url for h in after.facefusion_processing_history] == ["storyboard://media/fresh"]
    assert after.facefusion_output_gallery.enhanced_faces == ["storyboard://media/fresh"]


async def test_a_legacy_character_with_null_history_and_gallery_gets_them(db: Database) -> None:
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    character = await repos.characters.insert(new_character())
    await db.collection("characters").update_one(
        {"id": character.id}, {"$set": {"facefusion_processing_history": None, "facefusion_output_gallery": None}})
    ops = [operation("https://in.test/a.png", "age_adjust", target_age=70)]
    await jobs.insert(new_job(*ops, character_id=character.id))
    claimed = await jobs.claim_next("w1", 60)
    assert claimed is not None
    await record_outcome(repos, claimed, "w1", ops, [ok(0, ops[0], "old")])
    after = await repos.characters.get(character.id)
    assert len(after.facefusion_processing_history) == 1
    assert after.facefusion_output_gallery.age_variants == {70: "storyboard://media/old"}


async def test_a_job_of_a_deleted_character_still_completes(db: Database) -> None:
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    ops = [operation("https://in.test/a.png")]
    await jobs.insert(new_job(*ops, character_id="gone"))
    claimed = await jobs.claim_next("w1", 60)
    assert claimed is not None
    assert (await record_outcome(repos, claimed, "w1", ops, [ok(0, ops[0], "m")])).status == "completed"
