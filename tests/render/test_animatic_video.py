"""Clips whose selected media is a video play it in the animatic, trimmed to the clip: 30 fps test videos (one
colour, then another) in a 25 fps animatic show the first colour at a quarter of the clip and the second at three
quarters; a video shorter than its clip holds its last colour; a longer one is cut where its clip ends, the next
clip starting on its own frame; an undecodable "video" falls back to the clip's image, or black, and the job names
those clips; a cancel stops a render between a video's frames."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from fractions import Fraction

import anyio
import av
import pytest
from PIL import ImageStat

from mcp_storyboard.models.clips import GeneratedMedia
from mcp_storyboard.models.render_jobs import AnimaticOptions
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.render import motion
from tests.render.media import add_clip, add_video_clip, decode, near, solid, solid_video
from tests.render.test_animatic import rendered, running_worker
from tests.seed import seed_project, seed_scene

RED, BLUE, GREEN, YELLOW, BLACK = (230, 20, 20), (30, 40, 220), (20, 200, 40), (230, 220, 30), (0, 0, 0)
RATE = 25


async def test_videos_play_trimmed_to_their_clips_and_unreadable_ones_fall_back(services: Services) -> None:
    pid = await seed_project(services, "Rushes")
    scene = await seed_scene(services, pid, "One")
    await add_video_clip(services, pid, scene.id, "Halves", 0.0, 2.0, solid_video([RED, BLUE], 1.0))
    await add_video_clip(services, pid, scene.id, "Short", 2.0, 3.0, solid_video([RED, BLUE], 0.5))
    await add_video_clip(services, pid, scene.id, "Long", 5.0, 1.0, solid_video([RED, BLUE], 2.0))
    await add_clip(services, pid, scene.id, "Green", 6.0, 1.0, solid(GREEN, (64, 48)))
    broken = await add_video_clip(services, pid, scene.id, "Broken", 7.0, 1.0, b"not a video at all",
                                  image=solid(YELLOW, (64, 48)))
    dark = await add_video_clip(services, pid, scene.id, "Broken, no image", 8.0, 1.0, bytes(range(256)) * 8)
    await add_clip(services, pid, scene.id, "End", 9.0, 1.0, solid(GREEN, (64, 48)))

    options = AnimaticOptions(width=160, height=120, frame_rate=str(RATE))  # type: ignore[arg-type]
    job = await rendered(services, await services.renders.queue_animatic(pid, options))

    assert job.status == "completed" and job.result is not None
    assert job.result.frames == 10 * RATE and job.result.fallbacks == [broken.id, dark.id]
    movie = decode((await services.database.media.get(job.result.media_id))[1])
    assert movie.size == (160, 120) and abs(movie.video_seconds - 10.0) <= 1 / RATE
    # Halves: 0-2 s; a quarter in, red; three quarters in, blue.
    assert near(movie.colour_at(0.5), RED) and near(movie.colour_at(1.5), BLUE)
    # Short: a 1-second video in a 3-second clip holds its last colour.
    assert near(movie.colour_at(2.25), RED) and near(movie.colour_at(2.75), BLUE) and near(movie.colour_at(4.9), BLUE)
    # Long: only the first second of a 4-second video (red); the next clip's green starts on frame 150 exactly.
    assert near(movie.colour_at(5.5), RED) and near(movie.colour_at(6 - 1 / RATE), RED)
    assert near(movie.colour_at(6.0), GREEN)
    # Broken: its image instead; a "video" that is no video and no image either: black.
    assert near(movie.colour_at(7.5), YELLOW) and near(movie.colour_at(8.5), BLACK)
    assert near(movie.colour_at(9.5), GREEN)
    # The video is resampled to the animatic's rate: a frame every 1/25 s while one plays, never a 1/30 step.
    halves = [t for t, _ in movie.frames if t < 2.0]
    assert len(halves) == 2 * RATE
    assert all(abs(b - a - 1 / RATE) < 1e-6 for a, b in zip(halves, halves[1:], strict=False))
    # Short: its 25 frames, then the last one held as one frame to the clip's end.
    assert len([t for t, _ in movie.frames if 2.0 <= t < 5.0]) == RATE + 1


async def test_a_video_selected_as_an_image_plays_by_its_content_type(services: Services) -> None:
    pid = await seed_project(services)
    scene = await seed_scene(services, pid, "One")
    info = await services.database.media.put(solid_video([RED, BLUE], 1.0), content_type="video/mp4", project_id=pid)
    entry = GeneratedMedia(url=info.uri, media_id=info.id)  # an image clip whose selected "image" is a video file
    await add_clip(services, pid, scene.id, "Image gallery", 0.0, 2.0, generated_images=[entry],
                   selected_image_id=entry.id)
    options = AnimaticOptions(width=160, height=120, frame_rate="24")
    job = await rendered(services, await services.renders.queue_animatic(pid, options))
    assert job.result is not None and job.result.fallbacks == []
    movie = decode((await services.database.media.get(job.result.media_id))[1])
    assert near(movie.colour_at(0.5), RED) and near(movie.colour_at(1.5), BLUE)


async def test_a_video_of_another_shape_is_letterboxed_without_burn_in(services: Services) -> None:
    pid = await seed_project(services)
    scene = await seed_scene(services, pid, "One")
    await add_video_clip(services, pid, scene.id, "Wide", 0.0, 1.0, solid_video([BLUE], 1.0, size=(64, 48)))
    options = AnimaticOptions(width=160, height=90, frame_rate="24", burn_in=False)
    job = await rendered(services, await services.renders.queue_animatic(pid, options))
    assert job.result is not None and job.result.fallbacks == []
    with av.open(io.BytesIO((await services.database.media.get(job.result.media_id))[1])) as movie:
        picture = next(movie.decode(video=0)).to_image()
    assert picture.size == (160, 90)
    assert near(picture.getpixel((80, 45)), BLUE) and near(picture.getpixel((5, 45)), BLACK)  # type: ignore[arg-type]


@pytest.mark.parametrize("burn_in", [True, False])
async def test_a_video_of_the_animatics_shape_plays_frame_by_frame_with_or_without_burn_in(
    services: Services, burn_in: bool
) -> None:
    """A video of the animatic's own size and format comes out of the scaler unchanged (the decoder's own frame,
    in its stream's time base): each frame lands on its own animatic frame, and the band is blended into it once,
    as dark on the last frame as on the first."""
    pid = await seed_project(services)
    scene = await seed_scene(services, pid, "One")
    await add_video_clip(services, pid, scene.id, "Same size", 0.0, 2.0, solid_video([RED], 2.0, size=(160, 90)))
    options = AnimaticOptions(width=160, height=90, frame_rate="24", burn_in=burn_in)
    job = await rendered(services, await services.renders.queue_animatic(pid, options))
    assert job.result is not None
    with av.open(io.BytesIO((await services.database.media.get(job.result.media_id))[1])) as movie:
        decoded = [(float(frame.time or 0), frame.to_image()) for frame in movie.decode(video=0)]
    assert [round(time * 24, 3) for time, _ in decoded] == list(range(48))
    bands = [ImageStat.Stat(p.crop((0, 80, 160, 90))).mean for _, p in decoded]
    assert all(near(ImageStat.Stat(p.crop((0, 0, 160, 60))).mean, RED) for _, p in decoded)
    if burn_in:
        assert all(band[0] < RED[0] * 0.6 for band in bands)  # the dark band, on every frame
        assert all(near(band, bands[0], 3.0) for band in bands)  # and no darker on the last
    else:
        assert all(near(band, RED) for band in bands)


async def test_a_cancel_stops_the_render_between_a_videos_frames(services: Services,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pid = await seed_project(services)
    scene = await seed_scene(services, pid, "One")
    await add_video_clip(services, pid, scene.id, "Slow", 0.0, 4.0, solid_video([RED, BLUE], 2.0))
    shown: list[int] = []
    original = motion.video_frames

    def slow(data: bytes, length: int, rate: Fraction) -> Iterator[tuple[av.VideoFrame, int, int]]:
        for item in original(data, length, rate):
            shown.append(item[1])
            time.sleep(0.1)  # on the encoding thread: each frame takes a while, so the cancel comes mid-video
            yield item

    monkeypatch.setattr(motion, "video_frames", slow)
    job = await services.renders.queue_animatic(pid, AnimaticOptions(width=160, height=90))
    media_before = await services.database.media.count(project_id=pid)
    async with running_worker(services, lease_seconds=1.5) as worker:
        with anyio.fail_after(60):
            while (await services.renders.get_job(job.id)).progress == 0:  # progress is stored mid-video
                await anyio.sleep(0.05)
        assert (await services.renders.cancel_job(job.id)).status == "cancelled"
        with anyio.fail_after(60):
            while worker._runs:
                await anyio.sleep(0.05)
    after = await services.renders.get_job(job.id)
    assert (after.status, after.result) == ("cancelled", None)
    assert 0 < len(shown) < 4 * 24  # stopped part-way through the video's 96 frames
    assert await services.database.media.count(project_id=pid) == media_before
