"""The pictures of an animatic, drawn with Pillow: an image (or a video's frame) fitted into the frame on black
(letterboxed, never cropped or stretched), black for gaps, and the burn-in (clip name and timecode) on a dark band at the bottom, in
the contact sheets' Roboto so accented names draw as letters."""

from __future__ import annotations

import io
from fractions import Fraction
from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_module
from mcp_storyboard.services.sheets.draw import MAX_PIXELS, fitted, font, plain

if TYPE_CHECKING:
    import av
    from PIL import Image, ImageDraw, ImageOps
else:  # imported on first use: not needed to start the server (PyAV is the optional ``render`` extra)
    av = lazy_module("av")
    Image = lazy_module("PIL.Image")
    ImageDraw = lazy_module("PIL.ImageDraw")
    ImageOps = lazy_module("PIL.ImageOps")

BLACK = (0, 0, 0)
BAND = (0, 0, 0, 160)
TEXT = (255, 255, 255, 255)


def timecode(frame: int, rate: Fraction) -> str:
    """HH:MM:SS:FF, non-drop, counted at the rate's whole frames per second (25 for 25, 30 for 29.97)."""
    base = round(rate)
    seconds, frames = divmod(frame, base)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{frames:02d}"


def decode(data: bytes) -> Image.Image | None:
    """The image in ``data`` as RGB, or None when it is not an image Pillow can read (or is too large)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            return ImageOps.exif_transpose(image).convert("RGB")
    except Exception:  # any undecodable file shows as black; the job says which in its log
        return None


def picture(image: Image.Image | None, size: tuple[int, int], band: Band | None) -> Image.Image:
    """One frame: ``image`` fitted into ``size`` on black (black alone when None), under the burn-in ``band``."""
    frame = Image.new("RGB", size, BLACK)
    if image is not None:
        fitted_image = ImageOps.contain(image, size, Image.Resampling.LANCZOS)
        frame.paste(fitted_image, ((size[0] - fitted_image.width) // 2, (size[1] - fitted_image.height) // 2))
    if band is not None:
        band.draw_on(frame)
    return frame


def video_picture(source: av.VideoFrame, size: tuple[int, int], band: Band | None) -> av.VideoFrame:
    """A decoded video frame as an animatic frame in YUV 4:2:0: scaled by FFmpeg (``reformat``) to fit ``size``,
    letterboxed on black when its shape differs, under the burn-in ``band``. A frame of the animatic's shape stays
    in YUV (the band is blended into its planes); only a letterboxed one goes through Pillow."""
    width, height = size
    scale = min(width / source.width, height / source.height)
    inner = (min(width, max(2, round(source.width * scale))), min(height, max(2, round(source.height * scale))))
    if inner == size:
        frame = source.reformat(width=width, height=height, format="yuv420p")
        if band is not None:
            # reformat hands back the decoder's own frame when nothing changes; one whose buffer is shared (the
            # decoder may predict later frames from it) is copied before the band is drawn on it.
            frame.make_writable()
            band.draw_on_yuv(frame)
        return frame
    scaled = source.reformat(width=inner[0], height=inner[1], format="rgb24").to_image()
    picture = Image.new("RGB", size, BLACK)
    picture.paste(scaled, ((width - inner[0]) // 2, (height - inner[1]) // 2))
    if band is not None:
        band.draw_on(picture)
    return av.VideoFrame.from_image(picture).reformat(format="yuv420p")


class Band:
    """The burn-in (a clip's name and timecode on a dark band at the bottom), drawn once per clip and laid over
    each of its frames: a video's frames pay for one paste each, not for the text."""

    def __init__(self, size: tuple[int, int], name: str, code: str) -> None:
        width, height = size
        text_size = max(12, height // 24)
        pad = text_size // 2
        self.top = max(0, height - text_size - 2 * pad) // 2 * 2  # even: YUV 4:2:0 keeps colour per 2 rows
        self.image = Image.new("RGBA", (width, height - self.top), BAND)
        pen = ImageDraw.Draw(self.image)
        face = font(text_size)
        code_width = int(face.getlength(code))
        pen.text((width - pad - code_width, pad), code, font=face, fill=TEXT)
        room = width - 3 * pad - code_width
        if room > text_size:
            pen.text((pad, pad), fitted(plain(name), face, room), font=face, fill=TEXT)
        self._planes: list[tuple[Image.Image, Image.Image, int]] | None = None

    def draw_on(self, frame: Image.Image) -> None:
        frame.paste(self.image, (0, self.top), self.image)

    def draw_on_yuv(self, frame: av.VideoFrame) -> None:
        """Blend the band into a YUV 4:2:0 frame of the band's width, plane by plane, in its rows only."""
        for (values, alpha, top), plane in zip(self._yuv_planes(), frame.planes, strict=True):
            start, end = top * plane.line_size, (top + values.height) * plane.line_size
            rows = memoryview(plane)[start:end]
            region = Image.frombytes("L", (plane.line_size, values.height), bytes(rows))
            region.paste(values, (0, 0), alpha)
            rows[:] = region.tobytes()

    def _yuv_planes(self) -> list[tuple[Image.Image, Image.Image, int]]:
        """(values, opacity, first row) of the band in each plane, converted once by FFmpeg like the frames."""
        if self._planes is None:
            yuv = av.VideoFrame.from_image(self.image.convert("RGB")).reformat(format="yuv420p")
            opacity = self.image.getchannel("A")
            self._planes = []
            for index, plane in enumerate(yuv.planes):
                values = Image.frombytes("L", (plane.line_size, plane.height), bytes(plane))
                values = values.crop((0, 0, plane.width, plane.height))
                scaled = opacity if index == 0 else opacity.resize(values.size, Image.Resampling.BILINEAR)
                self._planes.append((values, scaled, self.top if index == 0 else self.top // 2))
        return self._planes
