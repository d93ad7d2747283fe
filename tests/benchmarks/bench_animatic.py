"""Animatic figures: render speed as a multiple of real time at 1280×720 (24 fps, H.264, burn-in on) for a
storyboard of 5-second stills (1920×1080 JPEGs), without music, with AAC music (copied) and with WAV music
(decoded and encoded to AAC); the same in VP9; and, as the baseline the design avoids, every frame of each still
encoded. Video clips: 5-second 1920×1080 30 fps H.264 videos, each decoded, resampled to 24 fps, scaled and
encoded frame by frame (with and without burn-in). Memory: the highest resident memory sampled while rendering, above the memory just before, for two
lengths (flat in the animatic's length is the goal). The encoder runs as the worker runs it, on a thread, with the
images read one at a time. Each figure is the best time of 3 runs and the highest peak. Prints figures and ratios; asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_animatic [--clips 24]
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from fractions import Fraction

import av
from PIL import Image

from mcp_storyboard.models.render_jobs import AnimaticOptions
from mcp_storyboard.services.render import frames as drawing
from mcp_storyboard.services.render.encode import _VIDEO_OPTIONS, Progress, render_mp4
from mcp_storyboard.services.render.plan import Picture, Still
from tests.benchmarks.bench_contact_sheet import PeakSampler
from tests.render.media import silence

RATE = Fraction(24)
CLIP_SECONDS = 5
REPEATS = 3


def jpeg(number: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1920, 1080), (37 * number % 256, 120, 200 - 7 * number % 200)).save(out, format="JPEG")
    return out.getvalue()


def picture(clips: int) -> Picture:
    length = CLIP_SECONDS * int(RATE)
    stills = tuple(Still(i * length, length, str(i % 8), f"Shot {i}") for i in range(clips))
    return Picture(stills, clips * length, clips)


def video(number: int) -> bytes:
    """A 1920x1080 30 fps H.264 MP4 of ``CLIP_SECONDS`` whose colour drifts (so each frame differs)."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=30, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"  # type: ignore[union-attr]
        for index in range(CLIP_SECONDS * 30):
            colour = (37 * number % 256, (120 + 2 * index) % 256, 200 - 7 * number % 200)
            frame = av.VideoFrame.from_image(Image.new("RGB", (1920, 1080), colour)).reformat(format="yuv420p")
            frame.pts = index
            for packet in stream.encode(frame):  # type: ignore[union-attr]
                container.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            container.mux(packet)
    return out.getvalue()


def video_picture(clips: int) -> Picture:
    length = CLIP_SECONDS * int(RATE)
    stills = tuple(Still(i * length, length, None, f"Shot {i}", video_id=f"v{i % 2}", clip_id=str(i))
                   for i in range(clips))
    return Picture(stills, clips * length, clips)


def every_frame(target: str, plan: Picture, images: dict[str, bytes]) -> None:
    """The baseline: each frame of each still encoded (the same picture again and again)."""
    with av.open(target, mode="w", format="mp4") as output:
        video = output.add_stream("libx264", rate=RATE, options=_VIDEO_OPTIONS["h264"])
        video.width, video.height, video.pix_fmt = 1280, 720, "yuv420p"  # type: ignore[union-attr]
        for still in plan.stills:
            image = drawing.decode(images[still.media_id or "0"])
            band = drawing.Band((1280, 720), still.caption or "", drawing.timecode(still.start, RATE))
            drawn = drawing.picture(image, (1280, 720), band)
            frame = av.VideoFrame.from_image(drawn).reformat(format="yuv420p")
            for offset in range(still.frames):
                frame.pts = still.start + offset
                for packet in video.encode(frame):  # type: ignore[union-attr]
                    output.mux(packet)
        for packet in video.encode(None):  # type: ignore[union-attr]
            output.mux(packet)


def measure(label: str, clips: int, images: dict[str, bytes], music: bytes | None, codec: str = "h264",
            baseline: bool = False, videos: bool = False, burn_in: bool = True) -> None:
    plan = video_picture(clips) if videos else picture(clips)

    def fetch(media_id: str) -> tuple[str, bytes] | None:
        data = images.get(media_id)
        return None if data is None else ("video/mp4" if media_id.startswith("v") else "image/jpeg", data)

    seconds = plan.frames / RATE
    elapsed, extra = float("inf"), 0.0
    for _ in range(REPEATS):  # the best of a few: the machine is shared, and a slow run says little
        with tempfile.TemporaryDirectory() as folder:
            target = os.path.join(folder, "a.mp4")
            with PeakSampler() as peak:
                started = time.perf_counter()
                if baseline:
                    every_frame(target, plan, images)
                else:
                    render_mp4(target, plan, AnimaticOptions(codec=codec, burn_in=burn_in), RATE, music,  # type: ignore[arg-type]
                               fetch, lambda: None, Progress())
                elapsed = min(elapsed, time.perf_counter() - started)
            size = os.path.getsize(target)
        extra = max(extra, peak.peak_mb - peak.start_mb)
    print(f"{label:<34} {float(seconds):6.0f} s  {elapsed:6.2f} s  {float(seconds) / elapsed:6.1f}x real time  "
          f"extra peak {extra:6.1f} MB  file {size / 2**20:5.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=24)
    clips = parser.parse_args().clips
    images = {str(i): jpeg(i) for i in range(8)}
    long_seconds = CLIP_SECONDS * clips * 4
    aac, _ = silence(long_seconds + 1, fmt="m4a")
    wav, _ = silence(long_seconds + 1, fmt="wav")
    print(f"1280x720, 24 fps, {CLIP_SECONDS} s stills (1920x1080 JPEGs), burn-in on")
    measure("h264, no music", clips, images, None)
    measure("h264, AAC music (copied)", clips, images, aac)
    measure("h264, WAV music (encoded to AAC)", clips, images, wav)
    measure("vp9, no music", clips, images, None, codec="vp9")
    measure("vp9, AAC music (copied)", clips, images, aac, codec="vp9")
    measure("h264, every frame encoded (baseline)", clips, images, None, baseline=True)
    measure("h264, AAC music, 4x as long", clips * 4, images, aac)
    measure("h264, WAV music, 4x as long", clips * 4, images, wav)
    media = {**images, "v0": video(0), "v1": video(1)}
    print(f"video clips: {CLIP_SECONDS} s 1920x1080 30 fps H.264, played at 24 fps")
    video_clips = max(2, clips // 4)
    measure("h264, video clips, burn-in", video_clips, media, None, videos=True)
    measure("h264, video clips, no burn-in", video_clips, media, None, videos=True, burn_in=False)
    measure("h264, video clips, AAC music", video_clips, media, aac, videos=True)
    measure("h264, video clips, 4x as long", video_clips * 4, media, None, videos=True)


if __name__ == "__main__":
    main()
