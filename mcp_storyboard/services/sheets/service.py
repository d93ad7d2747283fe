"""Contact sheets: render a page of a project's (or a scene's) storyboard as a PNG, keep recent pages in memory,
and store one in the media store on request.

Rendering reads four things (the project, its scenes, clips and characters) and then the selected images one at a
time from the media store, each decoded small on a worker thread and pasted at once, so a page of 4K frames never
holds more than one of them at full size. An image that is only an external URL is never fetched: its cell is a
card saying so. A render writes nothing to the database; the cache lives in this process only, keyed by the
digest of everything the page shows, so any change to the project shows on the next read.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio.to_thread

from mcp_storyboard.db.media import MediaInfo, MediaStore
from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.lazy_import import lazy_module
from mcp_storyboard.services.sheets import draw
from mcp_storyboard.services.sheets.entries import SheetContents, sheet_contents
from mcp_storyboard.services.sheets.layout import PageLayout, PlacedCell, SheetOptions, paginate, place

if TYPE_CHECKING:
    from PIL import Image

    from mcp_storyboard.repositories.bundle import Repositories
else:
    Image = lazy_module("PIL.Image")  # imported on first use: not needed to start the server

PREVIEW_MAX_BASE64 = 150_000
"""Largest preview carried in a tool result, as base64 (a result is capped at 256 KB)."""
CACHE_ENTRIES = 16
CACHE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class RenderedPage:
    """One rendered page of a contact sheet."""

    png: bytes
    preview_jpeg: bytes | None
    """A small JPEG of the page whose base64 is within :data:`PREVIEW_MAX_BASE64`, if one fits."""
    page: int
    pages: int
    width: int
    height: int
    clips_total: int
    cells: tuple[PlacedCell, ...]
    """Where each clip of the page is drawn, in reading order."""

    @property
    def clip_ids(self) -> list[str]:
        return [c.entry.clip_id for c in self.cells]


@dataclass(frozen=True)
class StoredSheet:
    media: MediaInfo
    page: RenderedPage


class _PageCache:
    """The most recent pages, bounded in count and bytes."""

    def __init__(self) -> None:
        self._pages: OrderedDict[tuple[object, ...], RenderedPage] = OrderedDict()

    def get(self, key: tuple[object, ...]) -> RenderedPage | None:
        found = self._pages.get(key)
        if found is not None:
            self._pages.move_to_end(key)
        return found

    def put(self, key: tuple[object, ...], page: RenderedPage) -> None:
        self._pages[key] = page
        self._pages.move_to_end(key)
        while len(self._pages) > CACHE_ENTRIES or (
            len(self._pages) > 1 and sum(len(p.png) for p in self._pages.values()) > CACHE_BYTES
        ):
            self._pages.popitem(last=False)


class ContactSheetService:
    """Render, cache and store contact sheets."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos
        self._cache = _PageCache()

    @property
    def _store(self) -> MediaStore:
        return self.repos.database.media

    async def contents(self, project_id: str, scene_id: str | None = None) -> SheetContents:
        """What the sheet shows (four queries).

        Raises:
            NotFoundError: no such project, or ``scene_id`` is not one of its scenes.
        """
        project = await self.repos.projects.find(project_id)
        if project is None:
            raise NotFoundError("project", project_id, hint="list_projects shows the projects")
        scenes = await self.repos.scenes.list_for_project(project_id)
        clips = await self.repos.clips.list_for_project(project_id)
        characters = {c.id: c for c in await self.repos.characters.list_for_project(project_id)}
        return sheet_contents(project, scenes, clips, characters, scene_id=scene_id)

    async def render(self, project_id: str, options: SheetOptions, scene_id: str | None = None) -> RenderedPage:
        """One page of the sheet, from the cache when nothing it shows has changed. Writes nothing.

        Raises:
            ValidationError: an option out of range (naming it), or a page past the last one.
            NotFoundError: no such project or scene.
        """
        options.check()
        contents = await self.contents(project_id, scene_id)
        pages = paginate(contents, options.columns)
        if options.page > len(pages):
            raise ValidationError(
                "page", f"is {options.page} but the sheet has {len(pages)} page{'s' if len(pages) != 1 else ''}",
                hint=f"allowed: 1 to {len(pages)}",
            )
        key = (contents.fingerprint(), scene_id, options)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        layout = place(pages[options.page - 1], options)
        title = f"{draw.plain(contents.title)} · page {options.page} of {len(pages)}"
        rendered = await self._draw(layout, title)
        page = RenderedPage(
            png=rendered[0], preview_jpeg=rendered[1], page=options.page, pages=len(pages), width=layout.width,
            height=layout.height, clips_total=contents.clip_count, cells=tuple(layout.cells),
        )  # fmt: skip
        self._cache.put(key, page)
        return page

    async def store(self, project_id: str, options: SheetOptions, scene_id: str | None = None) -> StoredSheet:
        """Render a page and put its PNG in the project's media store.

        Raises:
            ValidationError / NotFoundError: as :meth:`render`; also a project deleted while the file was stored
                (the file is removed again).
        """
        page = await self.render(project_id, options, scene_id)
        name = f"contact-sheet-p{page.page}.png"
        info = await self._store.put(page.png, content_type="image/png", filename=name, project_id=project_id,
                                     metadata={"kind": "contact_sheet", "scene_id": scene_id, "page": page.page})
        # The media store is outside transactions: a project deleted meanwhile would leave this file orphaned.
        if await self.repos.projects.find(project_id) is None:
            await self._store.delete(info.id)
            raise NotFoundError("project", project_id, hint="it was deleted while the sheet was stored")
        return StoredSheet(info, page)

    async def _draw(self, layout: PageLayout, title: str) -> tuple[bytes, bytes | None]:
        canvas, pen = await anyio.to_thread.run_sync(draw.blank_page, layout, title)
        for cell in layout.cells:
            problem: str | None = None
            if cell.entry.image == "stored" and cell.entry.media_id is not None:
                thumbnail, problem = await self._thumbnail(cell.entry.media_id, cell)
                if thumbnail is not None:
                    draw.paste_thumbnail(canvas, cell.thumbnail, thumbnail)
                    continue
            title_text, body = draw.card_lines(cell.entry, problem)
            draw.draw_card(pen, cell.thumbnail, title_text, body, layout.caption_size)

        def encode() -> tuple[bytes, bytes | None]:
            return draw.png_bytes(canvas), draw.preview_jpeg(canvas, PREVIEW_MAX_BASE64)

        return await anyio.to_thread.run_sync(encode)

    async def _thumbnail(self, media_id: str, cell: PlacedCell) -> tuple[Image.Image | None, str | None]:
        try:
            info, data = await self._store.get(media_id)
        except NotFoundError:
            return None, f"storyboard://media/{media_id} is not in the media store"
        if not info.content_type.startswith("image/"):
            return None, f"the selected file is {info.content_type}, not an image"
        size = (cell.thumbnail.width, cell.thumbnail.height)
        thumbnail = await anyio.to_thread.run_sync(draw.decode_thumbnail, data, size)
        del data  # the encoded file goes before the next one is read
        if thumbnail is None:
            return None, f"{info.filename} is not an image that can be read"
        return thumbnail, None

