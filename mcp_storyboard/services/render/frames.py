"""The pictures of an animatic, drawn with Pillow: an image fitted into the frame on black (letterboxed, never
cropped or stretched), black for gaps, and the burn-in (clip name and timecode) on a dark band at the bottom, in
the contact sheets' Roboto so accented names draw as letters."""

from __future__ import annotations

import io
from fractions import Fraction
from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_module
from mcp_storyboard.services.sheets.draw import MAX_PIXELS, fitted, font, plain

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageOps
else:  # imported on first use: not needed to start the server
    Image = lazy_module("PIL.Image")
    ImageDraw = lazy_module("PIL.ImageDraw")
    ImageOps = lazy_module("PIL.ImageOps")

BLACK = (0, 0, 0)
BAND = (0, 0, 0, 160)
TEXT = (255, 255, 255)


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


def picture(image: Image.Image | None, size: tuple[int, int], burn_in: tuple[str, str] | None) -> Image.Image:
    """One frame: ``image`` fitted into ``size`` on black (black alone when None), with the burn-in's
    (name, timecode) drawn when given."""
    frame = Image.new("RGB", size, BLACK)
    if image is not None:
        fitted_image = ImageOps.contain(image, size, Image.Resampling.LANCZOS)
        frame.paste(fitted_image, ((size[0] - fitted_image.width) // 2, (size[1] - fitted_image.height) // 2))
    if burn_in is not None:
        _burn_in(frame, *burn_in)
    return frame


def _burn_in(frame: Image.Image, name: str, code: str) -> None:
    size = max(12, frame.height // 24)
    pad = size // 2
    band_top = frame.height - size - 2 * pad
    overlay = Image.new("RGBA", frame.size, (0, 0, 0, 0))
    ImageDraw.Draw(overlay).rectangle((0, band_top, frame.width, frame.height), fill=BAND)
    frame.paste(overlay, (0, 0), overlay)
    pen = ImageDraw.Draw(frame)
    face = font(size)
    code_width = int(face.getlength(code))
    pen.text((frame.width - pad - code_width, band_top + pad), code, font=face, fill=TEXT)
    room = frame.width - 3 * pad - code_width
    if room > size:
        pen.text((pad, band_top + pad), fitted(plain(name), face, room), font=face, fill=TEXT)
