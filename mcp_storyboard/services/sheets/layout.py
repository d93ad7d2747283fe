"""Where everything goes on a contact sheet, pure: the options and their limits, the split into pages, and the
pixel boxes of the title, the scene headings and the cells (a thumbnail, and its caption below it).

A page holds at most :data:`ROWS_PER_PAGE` rows; a scene starts a new row, its heading above it, repeated with
"(continued)" when the scene carries on over a page break. The canvas is bounded (at most
:data:`MAX_SHEET_WIDTH` wide and ``ROWS_PER_PAGE`` rows high), so a page's memory is bounded whatever the project.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.services.sheets.entries import ClipEntry, SceneEntry, SheetContents

COLUMNS = (1, 10)
THUMBNAIL_WIDTHS = (96, 1024)
MAX_SHEET_WIDTH = 4096
"""Largest ``columns × thumbnail_width``, in pixels."""
ROWS_PER_PAGE = 6
ASPECT = (16, 9)
"""Cells are 16:9; an image of another shape is fitted inside, letterboxed."""
MARGIN = 24
GUTTER = 16


@dataclass(frozen=True)
class SheetOptions:
    columns: int = 4
    thumbnail_width: int = 320
    captions: bool = True
    page: int = 1

    def check(self) -> None:
        """Refuse options outside their limits, naming the field.

        Raises:
            ValidationError: columns, thumbnail_width or page out of range, or a sheet wider than allowed.
        """
        if not COLUMNS[0] <= self.columns <= COLUMNS[1]:
            raise ValidationError("columns", f"is {self.columns}", hint=f"allowed: {COLUMNS[0]} to {COLUMNS[1]}")
        low, high = THUMBNAIL_WIDTHS
        if not low <= self.thumbnail_width <= high:
            raise ValidationError("thumbnail_width", f"is {self.thumbnail_width}", hint=f"allowed: {low} to {high} pixels")
        if self.columns * self.thumbnail_width > MAX_SHEET_WIDTH:
            widest = MAX_SHEET_WIDTH // self.columns
            raise ValidationError(
                "thumbnail_width", f"{self.thumbnail_width} × {self.columns} columns is over {MAX_SHEET_WIDTH} pixels",
                hint=f"with {self.columns} columns, at most {widest}; or fewer columns",
            )
        if self.page < 1:
            raise ValidationError("page", f"is {self.page}", hint="pages are numbered from 1")


@dataclass(frozen=True)
class Block:
    """A scene's rows on one page."""

    scene: SceneEntry
    continued: bool
    rows: tuple[tuple[ClipEntry, ...], ...]


def paginate(contents: SheetContents, columns: int) -> list[list[Block]]:
    """The pages: each at most ``ROWS_PER_PAGE`` rows (a scene without clips takes one, for its heading)."""
    pages: list[list[Block]] = [[]]
    used = 0
    for scene in contents.scenes:
        rows = [scene.clips[i : i + columns] for i in range(0, len(scene.clips), columns)] or [()]
        continued = False
        while rows:
            if used == ROWS_PER_PAGE:
                pages.append([])
                used = 0
            take = min(len(rows), ROWS_PER_PAGE - used)
            pages[-1].append(Block(scene, continued, tuple(tuple(r) for r in rows[:take])))
            rows, used, continued = rows[take:], used + take, True
    return pages


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class PlacedCell:
    entry: ClipEntry
    thumbnail: Box
    caption: Box | None


@dataclass(frozen=True)
class PlacedHeading:
    text: str
    box: Box


@dataclass
class PageLayout:
    width: int
    height: int
    caption_size: int
    heading_size: int
    title_size: int
    title: Box
    headings: list[PlacedHeading] = field(default_factory=list)
    cells: list[PlacedCell] = field(default_factory=list)


def line_height(size: int) -> int:
    return round(size * 1.3)


def place(blocks: list[Block], options: SheetOptions) -> PageLayout:
    """Pixel boxes of one page's title, headings and cells."""
    cell_w = options.thumbnail_width
    cell_h = cell_w * ASPECT[1] // ASPECT[0]
    caption_size = max(11, min(24, round(cell_w / 22)))
    heading_size, title_size = round(caption_size * 1.4), round(caption_size * 1.7)
    caption_h = 3 * line_height(caption_size) + 6 if options.captions else 0
    width = 2 * MARGIN + options.columns * cell_w + (options.columns - 1) * GUTTER
    title = Box(MARGIN, MARGIN, width - 2 * MARGIN, line_height(title_size))
    layout = PageLayout(width, 0, caption_size, heading_size, title_size, title)
    y = title.y + title.height + GUTTER
    for block in blocks:
        text = block.scene.heading + (" (continued)" if block.continued else "")
        heading = Box(MARGIN, y, width - 2 * MARGIN, line_height(heading_size))
        layout.headings.append(PlacedHeading(text, heading))
        y += heading.height + GUTTER // 2
        for row in block.rows:
            if not row:
                continue
            for column, entry in enumerate(row):
                x = MARGIN + column * (cell_w + GUTTER)
                caption = Box(x, y + cell_h + 4, cell_w, caption_h - 4) if options.captions else None
                layout.cells.append(PlacedCell(entry, Box(x, y, cell_w, cell_h), caption))
            y += cell_h + caption_h + GUTTER
    layout.height = y + MARGIN - GUTTER // 2
    return layout
