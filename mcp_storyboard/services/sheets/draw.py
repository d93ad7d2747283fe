"""Drawing a contact sheet with Pillow: fonts, thumbnails decoded small, cards for clips without an image, captions,
headings, and the PNG (plus a small JPEG preview for the tool result).

User text (names, prompts, URLs) is only ever drawn as glyphs: control characters become spaces and long text is cut
with an ellipsis; nothing in it is interpreted. The font is Roboto from the ``font-roboto`` package, because
Pillow's built-in font has no accented letters (é, ß, ñ would be boxes).
"""

from __future__ import annotations

import base64
import io
import re
import threading
from importlib import resources
from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_module
from mcp_storyboard.services.projects.storyboard_markdown import timecode
from mcp_storyboard.services.sheets.entries import ClipEntry
from mcp_storyboard.services.sheets.layout import Box, PageLayout, line_height

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont, ImageOps

    Font = ImageFont.FreeTypeFont
else:  # imported on first use: not needed to start the server
    Image = lazy_module("PIL.Image")
    ImageDraw = lazy_module("PIL.ImageDraw")
    ImageFont = lazy_module("PIL.ImageFont")
    ImageOps = lazy_module("PIL.ImageOps")

PAPER = (255, 255, 255)
FRAME = (24, 24, 24)
CARD = (236, 232, 222)
INK = (28, 28, 28)
MUTED = (96, 96, 96)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ELLIPSIS = "…"
MAX_PIXELS = 50_000_000
"""Larger images (past 8K, 33 Mpx) are not decoded, so a decompression bomb costs nothing; a card says the image
cannot be read. Pillow's own guard only warns below 179 Mpx."""



_per_thread = threading.local()


def font(size: int, *, bold: bool = False) -> Font:
    """Roboto at ``size`` pixels (Medium for headings). Kept per thread: a FreeType face is not safe to share
    between threads, and pages are drawn on worker threads."""
    fonts: dict[tuple[int, bool], Font] = _per_thread.__dict__.setdefault("fonts", {})
    key = (size, bold)
    if key not in fonts:
        name = "Roboto-Medium.ttf" if bold else "Roboto-Regular.ttf"
        fonts[key] = ImageFont.truetype(str(resources.files("font_roboto") / "files" / name), size)
    return fonts[key]


def plain(text: str) -> str:
    """``text`` on one line: control and line-break characters become spaces, runs of spaces one."""
    return " ".join(_CONTROL.sub(" ", text).split())


def fitted(text: str, face: Font, width: int) -> str:
    """``text`` cut (with an ellipsis) to fit ``width`` pixels."""
    if face.getlength(text) <= width:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with the ellipsis
        mid = (low + high + 1) // 2
        if face.getlength(text[:mid] + _ELLIPSIS) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + _ELLIPSIS


def wrapped(text: str, face: Font, width: int, max_lines: int) -> list[str]:
    """``text`` broken into at most ``max_lines`` lines of ``width`` pixels; the last one cut if it goes on."""
    lines: list[str] = []
    words = plain(text).split(" ")
    current = ""
    for i, word in enumerate(words):
        trial = f"{current} {word}".strip()
        if face.getlength(trial) <= width or not current:
            current = trial
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines - 1:
            current = " ".join(words[i:])
            break
    if current:
        lines.append(current)
    return [fitted(line, face, width) for line in lines[:max_lines]]


def decode_thumbnail(data: bytes, size: tuple[int, int]) -> Image.Image | None:
    """The image in ``data`` fitted inside ``size``, or None when it is not an image Pillow reads.

    ``draft`` lets the JPEG decoder scale down while decoding (a 4K frame is decoded at an eighth of its size
    when that is enough), and ``thumbnail`` shrinks in place, so one full-size image at most is held at a time.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            image.draft("RGB", size)
            small = ImageOps.exif_transpose(image)
            small.thumbnail(size, Image.Resampling.LANCZOS)
            if small.width < size[0] and small.height < size[1]:
                small = ImageOps.contain(small, size, Image.Resampling.LANCZOS)
            return small.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def card_lines(entry: ClipEntry, problem: str | None) -> tuple[str, str]:
    """A card's title and body: why there is no image, and what the clip is meant to show."""
    if problem is not None:
        return "Image unavailable", problem
    if entry.image == "external":
        return "External image, not fetched", entry.url or ""
    return "No image yet", entry.prompt or "(no prompt)"


def paste_thumbnail(canvas: Image.Image, box: Box, thumbnail: Image.Image) -> None:
    x = box.x + (box.width - thumbnail.width) // 2
    y = box.y + (box.height - thumbnail.height) // 2
    canvas.paste(thumbnail, (x, y))


def draw_card(draw: ImageDraw.ImageDraw, box: Box, title: str, body: str, size: int) -> None:
    draw.rectangle((box.x, box.y, box.x + box.width - 1, box.y + box.height - 1), fill=CARD)
    pad = max(6, box.width // 24)
    width = box.width - 2 * pad
    y = box.y + pad
    draw.text((box.x + pad, y), fitted(title, font(size, bold=True), width), font=font(size, bold=True), fill=INK)
    y += line_height(size) + 2
    lines = max(1, (box.y + box.height - pad - y) // line_height(size))
    for line in wrapped(body, font(size), width, lines):
        draw.text((box.x + pad, y), line, font=font(size), fill=MUTED)
        y += line_height(size)


def caption_texts(entry: ClipEntry) -> list[str]:
    """The caption's lines: name; start timecode and length; character (when there is one)."""
    length = f"{entry.duration:.2f}".rstrip("0").rstrip(".")
    lines = [plain(entry.name) or "(unnamed clip)", f"{timecode(entry.start)} · {length} s"]
    if entry.character:
        lines.append(plain(entry.character))
    return lines


def draw_caption(draw: ImageDraw.ImageDraw, box: Box, entry: ClipEntry, size: int) -> None:
    y = box.y
    for i, text in enumerate(caption_texts(entry)):
        face = font(size, bold=i == 0)
        draw.text((box.x, y), fitted(text, face, box.width), font=face, fill=INK if i == 0 else MUTED)
        y += line_height(size)


def blank_page(layout: PageLayout, title: str) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """The page with its title and headings, and a dark frame where each thumbnail goes."""
    canvas = Image.new("RGB", (layout.width, layout.height), PAPER)
    draw = ImageDraw.Draw(canvas)
    face = font(layout.title_size, bold=True)
    draw.text((layout.title.x, layout.title.y), fitted(title, face, layout.title.width), font=face, fill=INK)
    for heading in layout.headings:
        face = font(layout.heading_size, bold=True)
        draw.text((heading.box.x, heading.box.y), fitted(plain(heading.text), face, heading.box.width), font=face,
                  fill=INK)
    for cell in layout.cells:
        box = cell.thumbnail
        draw.rectangle((box.x, box.y, box.x + box.width - 1, box.y + box.height - 1), fill=FRAME)
        if cell.caption is not None:
            draw_caption(draw, cell.caption, cell.entry, layout.caption_size)
    return canvas, draw


def png_bytes(image: Image.Image) -> bytes:
    """The page as PNG. zlib level 3: measured on a page of photographic frames, level 6 took about 4× as long
    for a file 12% smaller (tests/benchmarks/bench_contact_sheet.py)."""
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()


PREVIEW_WIDTHS = (1024, 768, 512, 384, 256)


def preview_jpeg(image: Image.Image, max_base64: int) -> bytes | None:
    """A JPEG of the page, as wide as it can be while its base64 stays within ``max_base64`` bytes (None when
    even the smallest is too large)."""
    for width in PREVIEW_WIDTHS:
        scale = min(1.0, width / image.width)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        small = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)  # no full-size copy
        out = io.BytesIO()
        small.save(out, format="JPEG", quality=80)
        data = out.getvalue()
        if len(base64.b64encode(data)) <= max_base64:
            return data
    return None
