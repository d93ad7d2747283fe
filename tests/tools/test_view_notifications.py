"""Subscribers of a project's timeline (``timeline.otio``) and contact sheet (``contact-sheet.png``) hear when what
they show changes (clip timing, media selection and deletion, music, scenes), and subscribers of another project hear nothing;
a render job's subscribers hear each status and progress change, written by a worker in this process (the
worker's hook, memory://) or in any process (the change stream, embedded); a generation batch that finishes with
images (in its clips' galleries) notifies those clips and its project's views.

"Nothing" is shown by order: after each write, a marker write to a third project follows, and every update up to
the marker's must be one of the written project's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from mcp_storyboard.models.generation import BatchResult
from mcp_storyboard.models.render_jobs import RenderJob
from mcp_storyboard.repositories.render_jobs import RenderJobRepository
from mcp_storyboard.server.job_events import events_of
from mcp_storyboard.server.resources import clip_uri, project_uri, timeline_uri
from mcp_storyboard.services.sheets import contact_sheet_uri
from tests.media_samples import MP3, png
from tests.tools.conftest import ToolClient
from tests.tools.generation_world import generation_world

WORKER = "worker-1"


async def updates_until(next_update: Callable[[], Awaitable[str]], marker: str) -> set[str]:
    """The distinct updates before the next ``marker`` update."""
    heard: set[str] = set()
    with anyio.fail_after(10):
        while (uri := await next_update()) != marker:
            heard.add(uri)
    return heard


async def test_timeline_and_contact_sheet_subscribers_hear_their_projects_changes_and_no_other(
    tools: ToolClient,
) -> None:
    pid = (await tools.call("create_project", name="Night Drive"))["id"]
    other = (await tools.call("create_project", name="Sunrise"))["id"]
    marker = (await tools.call("create_project", name="Marker"))["id"]
    scene = await tools.call("create_scene", project_id=pid, name="Intro")
    clip = await tools.call("create_clip", scene_id=scene["id"], name="Street")
    image = await tools.services.database.media.put(png(), content_type="image/png", project_id=pid)
    song = await tools.services.database.media.put(MP3, content_type="audio/mpeg", project_id=pid)
    mine = {timeline_uri(pid), contact_sheet_uri(pid)}
    theirs = {timeline_uri(other), contact_sheet_uri(other)}
    writes = [
        ("set_clip_timing", {"clip_id": clip["id"], "duration": 3.0}),
        ("add_clip_media", {"clip_id": clip["id"], "kind": "image", "media_id": image.id}),
        ("update_project", {"project_id": pid, "patch": {"music_media_id": song.id, "music_duration": 30.0}}),
        ("create_scene", {"project_id": pid, "name": "Outro"}),
        ("delete_media", {"media_id": image.id, "confirm": True}),  # the clip loses its picture
        ("delete_clip", {"clip_id": clip["id"], "confirm": True}),
    ]
    async with tools.watch([*mine, *theirs, project_uri(marker)]) as next_update:
        for number, (name, arguments) in enumerate(writes):
            await tools.call(name, **arguments)
            await tools.call("update_project", project_id=marker, patch={"description": f"after {name} {number}"})
            assert await updates_until(next_update, project_uri(marker)) == mine, name
        # The other project's own writes reach its subscribers.
        await tools.call("create_scene", project_id=other, name="Dawn")
        await tools.call("update_project", project_id=marker, patch={"description": "after Dawn"})
        assert await updates_until(next_update, project_uri(marker)) == theirs


async def test_render_job_subscribers_hear_each_status_and_progress_change(tools: ToolClient) -> None:
    pid = (await tools.call("create_project", name="Night Drive"))["id"]
    scene = await tools.call("create_scene", project_id=pid, name="Intro")
    await tools.call("create_clip", scene_id=scene["id"], name="Street")
    queued = await tools.call("render_animatic", project_id=pid)
    unrelated = await tools.call("render_animatic", project_id=pid)
    events = events_of(tools.client.server)  # type: ignore[attr-defined]
    assert events is not None
    jobs = RenderJobRepository(tools.services.database)

    async def worker_wrote(written: RenderJob) -> None:
        # What a worker does after each write: its hook publishes here where there is no change stream; with one
        # (embedded) the hook stands back and the stream announces the write, as it would another process's.
        await events.on_render_change(written)

    async with tools.watch([queued["uri"], unrelated["uri"]]) as next_update:
        claimed = await jobs.claim_next(WORKER, 60)
        assert claimed is not None and claimed.id == queued["id"]  # the oldest first
        await worker_wrote(claimed)
        with anyio.fail_after(10):
            assert await next_update() == queued["uri"]
        await worker_wrote(await jobs.update_progress(queued["id"], WORKER, 40.0))
        with anyio.fail_after(10):
            assert await next_update() == queued["uri"]
        await tools.call("cancel_render_job", job_id=queued["id"])
        with anyio.fail_after(10):
            assert await next_update() == queued["uri"]
        # The other job's change comes next: nothing else was sent in between.
        await tools.call("cancel_render_job", job_id=unrelated["id"])
        with anyio.fail_after(10):
            assert await next_update() == unrelated["uri"]


async def test_a_generation_batch_that_finishes_with_images_notifies_its_clips_and_projects_views(
    tools: ToolClient,
) -> None:
    world = await generation_world(tools.services)
    queued = await tools.call("generate_batch", project_id=world.project_id, model_id=world.model_id,
                              clips=[{"clip_id": c} for c in world.clip_ids[:2]])
    marker = (await tools.call("create_project", name="Marker"))["id"]
    events = events_of(tools.client.server)  # type: ignore[attr-defined]
    assert events is not None
    batches = tools.services.generation.batches
    views = {timeline_uri(world.project_id), contact_sheet_uri(world.project_id)}
    imaged, failed, untouched = (clip_uri(c) for c in world.clip_ids)
    async with tools.watch([*views, queued["uri"], imaged, failed, untouched, project_uri(marker)]) as next_update:
        # What the generation worker does (its hook publishes on memory://; the change stream on embedded).
        claimed = await batches.claim_next(WORKER, 60)
        assert claimed is not None
        await events.on_batch_change(claimed)
        with anyio.fail_after(10):
            assert await next_update() == queued["uri"]  # a claim changes no view
        result = BatchResult(clip_id=world.clip_ids[0], success=True, url="storyboard://media/m-1", media_id="m-1")
        await events.on_batch_change(await batches.record_result(queued["id"], WORKER, result))
        failure = BatchResult(clip_id=world.clip_ids[1], success=False, error="out of memory")
        await events.on_batch_change(await batches.record_result(queued["id"], WORKER, failure))
        await events.on_batch_change(await batches.finish(queued["id"], WORKER))
        heard: set[str] = set()
        with anyio.fail_after(10):
            while not views <= heard:
                heard.add(await next_update())
        # The clip that got the image is told; the one whose item failed and the one outside the batch are not.
        await tools.call("update_project", project_id=marker, patch={"description": "after the batch"})
        heard |= await updates_until(next_update, project_uri(marker))
        assert imaged in heard
        assert failed not in heard and untouched not in heard
