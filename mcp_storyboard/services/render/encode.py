"""Encoding an animatic with PyAV (FFmpeg): H.264 or VP9 video in an MP4, with the music as AAC.

A still is encoded once, as one frame whose packet lasts the still's whole length (MP4 keeps each sample's
duration), not once per frame: a 5-second clip at 24 fps costs one frame's encoding instead of 120. The encoders
are set so that each frame comes out as its own packet, in order (no B-frames, no look-ahead), which lets each
packet be given its still's duration as it leaves the encoder. Music is copied packet by packet when it already is
AAC in an MP4/M4A/MOV file, otherwise decoded, resampled and encoded; either way it is cut where the picture ends
and written as the picture advances, so memory stays flat in the animatic's length.

A clip's video is the exception: each of its frames is encoded (resampled to the animatic's rate, see
``motion.py``), except that a last frame held to the clip's end is one packet again.

Runs on a worker thread: ``fetch`` reads an image or video from the media store and ``check`` raises when the job
was cancelled (both call back into the event loop); ``progress`` is read by the worker to report it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import av
from av.video.stream import VideoStream
from PIL import Image

from mcp_storyboard.models.render_jobs import AnimaticOptions
from mcp_storyboard.services.render import frames, motion
from mcp_storyboard.services.render.plan import Picture, Still

log = logging.getLogger(__name__)

AUDIO_RATE = 48_000
_VIDEO_CODECS = {"h264": "libx264", "vp9": "libvpx-vp9"}
_VIDEO_OPTIONS = {
    # stillimage: x264's tuning for held pictures; zerolatency: no look-ahead, so a frame's packet comes out at once.
    "h264": {"preset": "veryfast", "tune": "stillimage,zerolatency", "crf": "23"},
    "vp9": {"deadline": "realtime", "cpu-used": "8", "crf": "32", "b": "0", "lag-in-frames": "0", "auto-alt-ref": "0"},
}
_COPIED_FORMATS = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2"}


class MusicError(Exception):
    """The music file cannot be read as audio."""


@dataclass
class Progress:
    """Frames of the picture written so far (set by the encoding thread, read by the worker)."""

    frames: int = 0
    total: int = 1

    @property
    def percent(self) -> float:
        return round(min(100.0, 100.0 * self.frames / max(self.total, 1)), 1)


@dataclass
class Rendered:
    """What a render made."""

    encoded: int
    """Video frames encoded (a held picture is one)."""
    fallbacks: list[str]
    """Clips whose selected video or image could not be shown (missing or undecodable): each shows its image
    instead of its video, or black."""


Fetch = Callable[[str], "tuple[str, bytes] | None"]
"""A media id's (content type, data), or None when it is not in the store or not an image or video."""


def render_mp4(
    target: str,
    picture: Picture,
    options: AnimaticOptions,
    rate: Fraction,
    music: bytes | None,
    fetch: Fetch,
    check: Callable[[], None],
    progress: Progress,
) -> Rendered:
    """Write the animatic of ``picture`` to the file ``target``.

    Each stretch shows the first of its sources that can be read: the clip's video (played from its start,
    resampled to ``rate``, cut at the clip's end, its last frame held when it is shorter; see ``motion.py``), then
    its image (held); else black. ``check`` is called before each picture, so also between a video's frames.

    Raises:
        MusicError: ``music`` holds no readable audio.
        whatever ``check`` or ``fetch`` raise (the job's cancellation).
    """
    progress.total = picture.frames
    with av.open(target, mode="w", format="mp4") as output:
        video = cast(VideoStream, output.add_stream(_VIDEO_CODECS[options.codec], rate=rate,
                                                    options=_VIDEO_OPTIONS[options.codec]))
        video.width, video.height, video.pix_fmt = options.width, options.height, "yuv420p"
        video.codec_context.time_base = 1 / rate
        video.codec_context.max_b_frames = 0
        audio = _Music(output, music) if music is not None else None
        writer = _Writer(output, video, audio, rate, check, progress)
        fallbacks: list[str] = []
        size = (options.width, options.height)
        try:
            for still in picture.stills:
                check()
                band = (frames.Band(size, still.caption, frames.timecode(still.start, rate))
                        if options.burn_in and still.caption is not None else None)
                shown = next((m for m in still.sources if _show(writer, still, m, size, band, fetch)), None)
                if shown is None:
                    writer.hold(frames.picture(None, size, band), still.start, still.frames)
                if still.clip_id is not None and still.sources and shown != still.sources[0]:
                    fallbacks.append(still.clip_id)
            writer.flush()
            if audio is not None:
                audio.finish(picture.frames / rate)
        finally:
            if audio is not None:
                audio.close()
    return Rendered(writer.encoded, fallbacks)


def _show(writer: _Writer, still: Still, media_id: str, size: tuple[int, int], band: frames.Band | None,
          fetch: Fetch) -> bool:
    """Show ``media_id`` over ``still``; False (nothing written) when it cannot be read."""
    fetched = fetch(media_id)
    if fetched is None:
        return False
    content_type, data = fetched
    del fetched  # the encoded file goes as soon as it is decoded
    if content_type.startswith("video/"):
        try:
            pictures = motion.video_frames(data, still.frames, writer.rate)
            for source, at, length in pictures:
                writer.play(frames.video_picture(source, size, band), still.start + at, length)
        except motion.VideoUnreadable as exc:
            log.info("clip %s: its video %s cannot be played (%s)", still.clip_id, media_id, exc)
            return False
    else:
        image = frames.decode(data)
        del data
        if image is None:
            log.info("clip %s: its image %s cannot be read", still.clip_id, media_id)
            return False
        writer.hold(frames.picture(image, size, band), still.start, still.frames)
    return True


class _Writer:
    """Encodes pictures as they come, each packet lasting its picture's frames, with the music kept up."""

    def __init__(self, output: Any, video: VideoStream, audio: _Music | None, rate: Fraction,
                 check: Callable[[], None], progress: Progress) -> None:
        self.output, self.video, self.audio, self.rate = output, video, audio, rate
        self.check, self.progress = check, progress
        self.lengths: dict[int, int] = {}
        self.encoded = 0

    def hold(self, image: Image.Image, start: int, length: int) -> None:
        self.play(av.VideoFrame.from_image(image).reformat(format="yuv420p"), start, length)

    def play(self, frame: av.VideoFrame, start: int, length: int) -> None:
        """Encode ``frame`` at ``start``, lasting ``length`` frames; check for cancellation after it."""
        # In frames of the animatic: a decoded video's frame still carries its own stream's time base.
        frame.pts, frame.time_base = start, 1 / self.rate
        self.lengths[start] = length
        _mux_video(self.output, self.video.encode(frame), self.lengths)
        self.encoded += 1
        if self.audio is not None:
            self.audio.write_until((start + length) / self.rate)
        self.progress.frames = start + length
        self.check()

    def flush(self) -> None:
        _mux_video(self.output, self.video.encode(None), self.lengths)


def _mux_video(output: Any, packets: list[Any], lengths: dict[int, int]) -> None:
    for packet in packets:
        packet.duration = lengths.pop(packet.pts, 1)
        output.mux(packet)


class _Music:
    """The music's packets for the output, copied or encoded, written up to a time as the picture advances."""

    def __init__(self, output: Any, data: bytes) -> None:
        self.output = output
        try:
            self.source = av.open(io.BytesIO(data), mode="r")
        except av.FFmpegError as exc:
            raise MusicError(f"the music file cannot be read ({exc})") from None
        if not self.source.streams.audio:
            self.source.close()
            raise MusicError("the music file holds no audio stream")
        self.input = self.source.streams.audio[0]
        formats = set(self.source.format.name.split(","))
        self.copy = self.input.codec_context.name == "aac" and bool(formats & _COPIED_FORMATS)
        if self.copy:
            self.stream = output.add_stream_from_template(self.input)
        else:
            self.stream = output.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
            self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
            self.samples = 0
        self.packets = self._packets()
        self.waiting: Any = None
        self.done = False

    def _packets(self) -> Iterator[tuple[float, Any]]:
        """(start in seconds, packet) in order, ready to mux."""
        for packet in self.source.demux(self.input):
            if packet.dts is None:
                continue
            if self.copy:
                start = float(packet.pts * packet.time_base) if packet.pts is not None else 0.0
                packet.stream = self.stream
                yield start, packet
                continue
            for decoded in packet.decode():
                for frame in self.resampler.resample(decoded):
                    frame.pts, frame.time_base = self.samples, Fraction(1, AUDIO_RATE)
                    self.samples += frame.samples
                    for out in self.stream.encode(frame):
                        yield float(out.pts * out.time_base), out

    def write_until(self, seconds: Fraction | float) -> None:
        """Mux the packets that start before ``seconds``."""
        while not self.done:
            if self.waiting is None:
                self.waiting = next(self.packets, None)
                if self.waiting is None:
                    self.done = True
                    return
            start, packet = self.waiting
            if start >= seconds:
                return
            self.output.mux(packet)
            self.waiting = None

    def finish(self, seconds: Fraction | float) -> None:
        """Mux what starts before the end and flush the encoder (the music is cut where the picture ends)."""
        self.write_until(seconds)
        self.done = True
        if not self.copy:
            for out in self.stream.encode(None):
                if out.pts is None or out.pts * out.time_base < seconds:
                    self.output.mux(out)

    def close(self) -> None:
        self.source.close()
