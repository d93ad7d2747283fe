"""Animatics rendered by the render worker on every backend, decoded with PyAV: the length is the timeline's to
within a frame, each clip's image is on screen at its middle (mean colours of solid-colour stills), gaps and clips
without an image are black, music is laid under it (copied when it is AAC, encoded otherwise) and cut to the
picture; a cancel or a lost lease stops the render and stores nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import pytest

from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.models.render_jobs import AnimaticOptions
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.render.views import RenderJobView
from mcp_storyboard.services.render.worker import RenderWorker
from tests.render.media import add_clip, decode, near, silence, solid
from tests.seed import seed_project, seed_scene

RED, GREEN, BLUE, BLACK = (230, 20, 20), (20, 200, 40), (30, 40, 220), (0, 0, 0)


@asynccontextmanager
async def running_worker(services: Services, **options: object) -> AsyncIterator[RenderWorker]:
    worker = RenderWorker(services.repositories, worker_name="test", **options)  # type: ignore[arg-type]
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        try:
            yield worker
        finally:
            worker.stop()


async def rendered(services: Services, job: RenderJobView) -> RenderJobView:
    async with running_worker(services):
        waited = await services.renders.wait_job(job.id, 120)
    assert waited.finished, waited.job
    return waited.job


async def storyboard(services: Services) -> tuple[str, str, dict[str, tuple[float, float, tuple[int, int, int]]]]:
    """Act One (0–5 red, a gap, 7–9.5 green) then its sub-scene Chase (a clip without an image, then blue), and
    an alternate take that must not show. Returns the project, the first scene and (start, end, colour) by clip."""
    pid = await seed_project(services, "Café Noir")
    act = await seed_scene(services, pid, "Act One", order=0)
    chase = await seed_scene(services, pid, "Chase", order=0, parent_scene_id=act.id)
    red = await add_clip(services, pid, act.id, "Ouvertüre", 0.0, 5.0, solid(RED))
    await add_clip(services, pid, act.id, "Green", 7.0, 2.5, solid(GREEN))
    await add_clip(services, pid, act.id, "Alt take", 0.0, 5.0, solid((255, 255, 0)), alternate_of=red.id,
                   alternate_number=1)
    await add_clip(services, pid, chase.id, "No image", 0.0, 1.5)
    await add_clip(services, pid, chase.id, "Blue", 1.5, 3.0, solid(BLUE))
    # Chase starts where Act One's clips end (9.5 s).
    expected = {"red": (0.0, 5.0, RED), "gap": (5.0, 7.0, BLACK), "green": (7.0, 9.5, GREEN),
                "none": (9.5, 11.0, BLACK), "blue": (11.0, 14.0, BLUE)}
    return pid, act.id, expected


async def test_each_clip_shows_its_image_for_its_length_with_the_music_copied_under_it(services: Services) -> None:
    pid, _, expected = await storyboard(services)
    music, mime = silence(20.0, fmt="m4a")
    info = await services.database.media.put(music, content_type=mime, project_id=pid)
    await services.repositories.projects.update_fields(pid, {"music_media_id": info.id})

    job = await rendered(services, await services.renders.queue_animatic(pid, AnimaticOptions(width=320, height=180)))

    assert job.status == "completed" and job.progress == 100.0 and job.result is not None
    assert (job.result.frames, job.result.clips, job.result.music) == (14 * 24, 4, True)
    assert job.result.url == f"storyboard://media/{job.result.media_id}"
    stored, data = await services.database.media.get(job.result.media_id)
    assert (stored.content_type, stored.project_id) == ("video/mp4", pid)
    movie = decode(data)
    assert movie.size == (320, 180)
    assert abs(movie.video_seconds - 14.0) <= 1 / 24
    for name, (start, end, colour) in expected.items():
        assert near(movie.colour_at((start + end) / 2), colour), (name, movie.colour_at((start + end) / 2))
    assert len(movie.frames) == len(expected)  # a still is encoded once and held, not once per frame
    assert movie.audio_codec == "aac" and movie.audio_seconds is not None
    assert abs(movie.audio_seconds - 14.0) <= 1 / 24  # 20 s of music cut to the picture


async def test_a_scene_renders_alone_from_its_first_clip_in_vp9_with_wav_music_encoded(services: Services) -> None:
    pid, act, _ = await storyboard(services)
    music, mime = silence(3.0, fmt="wav")  # shorter than the picture: the rest is silent
    info = await services.database.media.put(music, content_type=mime, project_id=pid)
    await services.repositories.projects.update_fields(pid, {"music_media_id": info.id})
    chase = next(s for s in await services.repositories.scenes.list_for_project(pid) if s.name == "Chase")

    options = AnimaticOptions(width=256, height=144, frame_rate="25", codec="vp9", burn_in=False)
    job = await rendered(services, await services.renders.queue_animatic(pid, options, chase.id))

    assert job.result is not None and (job.result.frames, job.result.clips) == (4 * 25 + 12, 2)
    movie = decode((await services.database.media.get(job.result.media_id))[1])
    assert movie.size == (256, 144) and abs(movie.video_seconds - 4.5) <= 1 / 25
    assert near(movie.colour_at(0.75), BLACK) and near(movie.colour_at(3.0), BLUE)
    assert movie.audio_codec == "aac" and movie.audio_seconds is not None and 2.9 <= movie.audio_seconds <= 3.1
    assert act != chase.id


async def test_music_off_or_absent_leaves_the_animatic_silent(services: Services) -> None:
    pid, _, _ = await storyboard(services)
    job = await rendered(services, await services.renders.queue_animatic(pid, AnimaticOptions(width=160, height=90)))
    assert job.result is not None and job.result.music is False
    movie = decode((await services.database.media.get(job.result.media_id))[1])
    assert movie.audio_codec is None and abs(movie.video_seconds - 14.0) <= 1 / 24


async def test_a_timeline_without_clips_or_a_missing_scene_is_refused_and_nothing_is_queued(services: Services) -> None:
    pid = await seed_project(services)
    empty = await seed_scene(services, pid, "Empty")
    with pytest.raises(ValidationError) as refused:
        await services.renders.queue_animatic(pid, AnimaticOptions())
    assert refused.value.field == "project_id"
    with pytest.raises(ValidationError) as refused:
        await services.renders.queue_animatic(pid, AnimaticOptions(), empty.id)
    assert refused.value.field == "scene_id"
    with pytest.raises(NotFoundError):
        await services.renders.queue_animatic(pid, AnimaticOptions(), "0" * 8 + "-0000-4000-8000-" + "0" * 12)
    assert (await services.renders.list_jobs()).items == []


async def blocked_after_first_image(
    worker: RenderWorker,
) -> tuple[anyio.Event, Callable[[str, str], Awaitable[tuple[str, bytes] | None]]]:
    """Make the worker's second image read wait forever (the render is then mid-way); the event is set then."""
    reached = anyio.Event()
    original = worker._media
    reads = 0

    async def image(media_id: str, project_id: str) -> tuple[str, bytes] | None:
        nonlocal reads
        reads += 1
        if reads > 1:
            reached.set()
            await anyio.sleep_forever()
        return await original(media_id, project_id)

    return reached, image


async def test_cancelling_a_running_render_stops_it_and_stores_nothing(services: Services) -> None:
    pid, _, _ = await storyboard(services)
    job = await services.renders.queue_animatic(pid, AnimaticOptions(width=160, height=90))
    media_before = await services.database.media.count(project_id=pid)
    async with running_worker(services, lease_seconds=1.5) as worker:
        reached, image = await blocked_after_first_image(worker)
        worker._media = image  # type: ignore[method-assign]
        with anyio.fail_after(60):
            await reached.wait()
            while (await services.renders.get_job(job.id)).progress == 0:  # progress is stored while it renders
                await anyio.sleep(0.05)
        assert (await services.renders.get_job(job.id)).progress == 50.0  # the red still and the gap: 7 s of 14
        cancelled = await services.renders.cancel_job(job.id)
        assert cancelled.status == "cancelled"
        with anyio.fail_after(60):
            while worker._runs:  # the render notices within a heartbeat and its thread stops
                await anyio.sleep(0.05)
    after = await services.renders.get_job(job.id)
    assert (after.status, after.result) == ("cancelled", None)
    assert await services.database.media.count(project_id=pid) == media_before


async def test_a_stopping_worker_hands_the_render_back_to_the_queue(services: Services) -> None:
    pid, _, _ = await storyboard(services)
    job = await services.renders.queue_animatic(pid, AnimaticOptions(width=160, height=90))
    async with running_worker(services) as worker:
        reached, image = await blocked_after_first_image(worker)
        worker._media = image  # type: ignore[method-assign]
        with anyio.fail_after(60):
            await reached.wait()
    after = await services.renders.get_job(job.id)
    assert (after.status, after.attempts, after.result) == ("queued", 0, None)


async def test_files_of_another_project_never_reach_the_animatic(services: Services) -> None:
    """The worker acts for no user: a clip pointing at another project's file (or music from one) renders as
    missing media, so one user's pictures cannot leak into another's animatic."""
    pid, theirs = await seed_project(services, "Mine"), await seed_project(services, "Theirs")
    scene = await seed_scene(services, pid, "Only", order=0)
    clip = await add_clip(services, pid, scene.id, "Borrowed", 0.0, 2.0, solid(RED))
    foreign = await services.database.media.put(solid(GREEN), content_type="image/png", project_id=theirs)
    entry = clip.generated_images[0].model_copy(update={"url": foreign.uri, "media_id": foreign.id})
    await services.repositories.clips.update_fields(clip.id, {"generated_images": [entry.model_dump()],
                                                              "selected_image_id": entry.id})
    music, mime = silence(5.0, fmt="m4a")
    tune = await services.database.media.put(music, content_type=mime, project_id=theirs)
    await services.repositories.projects.update_fields(pid, {"music_media_id": tune.id})

    job = await rendered(services, await services.renders.queue_animatic(pid, AnimaticOptions(width=320, height=180)))

    assert job.status == "completed" and job.result is not None and job.result.music is False
    movie = decode((await services.database.media.get(job.result.media_id))[1])
    assert near(movie.colour_at(1.0), BLACK), movie.colour_at(1.0)
