"""A clip's video in the animatic: decoded from its first frame (clips have no in-point), resampled to the
animatic's frame rate by picking, for each animatic frame, the last video frame that starts at or before it, and
cut at the clip's end. A video shorter than its clip holds its last frame to the clip's end.

Frames are streamed: the decoder's frames are read one at a time and at most one is held (the one on screen until
a later one replaces it), so memory does not grow with the video's length. The encoded file itself is read whole
from the media store (whose uploads are bounded) and decoded from memory.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Iterator
from fractions import Fraction

import av

log = logging.getLogger(__name__)


class VideoUnreadable(Exception):
    """Not one frame of the file could be decoded as video."""


def video_frames(data: bytes, length: int, rate: Fraction) -> Iterator[tuple[av.VideoFrame, int, int]]:
    """The video in ``data`` over ``length`` frames at ``rate``: (decoded frame, first animatic frame it shows
    on, counted from the clip's start, how many frames it stays), in order and covering 0..``length`` exactly.

    A video shorter than ``length`` holds its last frame to the end; one longer is cut (decoding stops at the
    first frame past the end). A file that breaks off part-way holds its last good frame.

    Raises:
        VideoUnreadable: before anything is yielded, when no frame can be decoded (not a video, damaged, no
            video stream).
    """
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise VideoUnreadable(f"not a readable video ({exc})") from None
    with container:
        if not container.streams.video:
            raise VideoUnreadable("the file holds no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        held: av.VideoFrame | None = None
        held_at = 0
        origin: Fraction | None = None
        try:
            for frame in container.decode(stream):
                if frame.pts is None or frame.time_base is None:
                    continue
                seconds = Fraction(frame.pts) * Fraction(frame.time_base)
                origin = seconds if origin is None else origin
                # The first animatic frame whose time is at or after this video frame's: it shows from there.
                at = max(0, math.ceil((seconds - origin) * rate))
                if at >= length:
                    break
                if held is not None and at > held_at:
                    yield held, held_at, at - held_at
                    held_at = at
                held = frame  # a later frame on the same animatic frame replaces the earlier one
        except (av.FFmpegError, ValueError) as exc:
            if held is None:
                raise VideoUnreadable(f"the video cannot be decoded ({exc})") from None
            log.info("a clip's video broke off at %d frames (%s); its last frame is held", held_at, exc)
        if held is None:
            raise VideoUnreadable("the video holds no frame")
        yield held, held_at, length - held_at
