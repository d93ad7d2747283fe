"""Encoding an animatic with PyAV (FFmpeg): H.264 or VP9 video in an MP4, with the music as AAC.

A still is encoded once, as one frame whose packet lasts the still's whole length (MP4 keeps each sample's
duration), not once per frame: a 5-second clip at 24 fps costs one frame's encoding instead of 120. The encoders
are set so that each frame comes out as its own packet, in order (no B-frames, no look-ahead), which lets each
packet be given its still's duration as it leaves the encoder. Music is copied packet by packet when it already is
AAC in an MP4/M4A/MOV file, otherwise decoded, resampled and encoded; either way it is cut where the picture ends
and written as the picture advances, so memory stays flat in the animatic's length.

Runs on a worker thread: ``fetch`` reads an image from the media store and ``check`` raises when the job was
cancelled (both call back into the event loop); ``progress`` is read by the worker to report it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import av
from av.video.stream import VideoStream

from mcp_storyboard.models.render_jobs import AnimaticOptions
from mcp_storyboard.services.render import frames
from mcp_storyboard.services.render.plan import Picture

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


def render_mp4(
    target: str,
    picture: Picture,
    options: AnimaticOptions,
    rate: Fraction,
    music: bytes | None,
    fetch: Callable[[str], bytes | None],
    check: Callable[[], None],
    progress: Progress,
) -> int:
    """Write the animatic of ``picture`` to the file ``target``; how many video frames were encoded.

    Raises:
        MusicError: ``music`` holds no readable audio.
        whatever ``check`` or ``fetch`` raise (the job's cancellation).
    """
    progress.total = picture.frames
    size = (options.width, options.height)
    with av.open(target, mode="w", format="mp4") as output:
        video = cast(VideoStream, output.add_stream(_VIDEO_CODECS[options.codec], rate=rate,
                                                    options=_VIDEO_OPTIONS[options.codec]))
        video.width, video.height, video.pix_fmt = options.width, options.height, "yuv420p"
        video.codec_context.time_base = 1 / rate
        video.codec_context.max_b_frames = 0
        audio = _Music(output, music) if music is not None else None
        lengths: dict[int, int] = {}
        encoded = 0
        try:
            for still in picture.stills:
                check()
                image = frames.decode(data) if still.media_id and (data := fetch(still.media_id)) else None
                burn_in = (still.caption, frames.timecode(still.start, rate)) if options.burn_in and still.caption is not None else None
                drawn = frames.picture(image, size, burn_in)
                del image
                frame = av.VideoFrame.from_image(drawn).reformat(format="yuv420p")
                frame.pts = still.start
                lengths[still.start] = still.frames
                _mux_video(output, video.encode(frame), lengths)
                encoded += 1
                if audio is not None:
                    audio.write_until(still.end / rate)
                progress.frames = still.end
            _mux_video(output, video.encode(None), lengths)
            if audio is not None:
                audio.finish(picture.frames / rate)
        finally:
            if audio is not None:
                audio.close()
    return encoded


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
