"""Contact sheets rendered from stored projects on every backend: each cell carries its own clip's image (mean
colours of cells drawn from solid-colour images), cards stand in for missing images, pages split large projects,
a render writes nothing and is cached until something shown changes, and a stored page is a PNG in the media
store."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageStat

from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.models.clips import Clip, ClipPatch, GeneratedMedia
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.sheets import RenderedPage, SheetOptions
from mcp_storyboard.services.sheets.draw import CARD, FRAME
from mcp_storyboard.services.sheets.layout import Box
from tests.seed import seed_project, seed_scene, snapshot


def solid(colour: tuple[int, int, int], size: tuple[int, int] = (192, 108), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def colour_of(number: int) -> tuple[int, int, int]:
    return (37 * number % 256, 255 - 23 * number % 256, 90 + 11 * number % 160)


async def add_clip(services: Services, project_id: str, scene_id: str, name: str, position: float,
                   image: bytes | None = None, mime: str = "image/png", **fields: object) -> Clip:
    if image is not None:
        info = await services.database.media.put(image, content_type=mime, project_id=project_id)
        entry = GeneratedMedia(url=info.uri, media_id=info.id)
        fields = {**fields, "generated_images": [entry], "selected_image_id": entry.id}
    return await services.repositories.clips.insert(Clip(project_id=project_id, scene_id=scene_id, name=name,
                                                          timeline_position=position, **fields))  # type: ignore[arg-type]


def mean(png: bytes, box: Box, inset: int = 3) -> tuple[float, ...]:
    with Image.open(io.BytesIO(png)) as image:
        cell = image.convert("RGB").crop((box.x + inset, box.y + inset, box.x + box.width - inset,
                                          box.y + box.height - inset))
    return tuple(ImageStat.Stat(cell).mean)


def spread(png: bytes, box: Box) -> float:
    with Image.open(io.BytesIO(png)) as image:
        cell = image.convert("L").crop((box.x, box.y, box.x + box.width, box.y + box.height))
    return float(ImageStat.Stat(cell).stddev[0])


def near(actual: tuple[float, ...], expected: tuple[int, ...], tolerance: float = 3.0) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def png_size(page: RenderedPage) -> tuple[int, int]:
    with Image.open(io.BytesIO(page.png)) as image:
        assert image.format == "PNG"
        return image.size


async def test_each_cell_carries_its_own_clips_image_under_nested_scene_headings(services: Services) -> None:
    pid = await seed_project(services, "Night Drive")
    act = await seed_scene(services, pid, "Act One", order=0)
    chase = await seed_scene(services, pid, "Chase", order=0, parent_scene_id=act.id)
    expected: dict[str, tuple[int, int, int]] = {}
    for i in range(7):
        target = act if i < 3 else chase
        # Some JPEG frames at 1920x1080, some small PNGs: both fill their 16:9 cell.
        image = solid(colour_of(i), (1920, 1080), "JPEG") if i % 2 else solid(colour_of(i))
        shot = await add_clip(services, pid, target.id, f"Shot {i}", (i if i < 3 else i - 3) * 5.0, image,
                              "image/jpeg" if i % 2 else "image/png")
        expected[shot.id] = colour_of(i)
    original = next(iter(expected))
    await add_clip(services, pid, act.id, "Alternate take", 0.0, solid((255, 0, 0)), alternate_of=original,
                   alternate_number=1)

    page = await services.sheets.render(pid, SheetOptions(columns=3, thumbnail_width=192))
    assert png_size(page) == (page.width, page.height)
    assert page.width == 2 * 24 + 3 * 192 + 2 * 16
    assert (page.page, page.pages, page.clips_total) == (1, 1, 7)
    assert page.clip_ids == list(expected), "main clips only, in timeline order, scene by scene"
    for cell in page.cells:
        assert cell.thumbnail.width == 192 and cell.thumbnail.height == 108
        assert near(mean(page.png, cell.thumbnail), expected[cell.entry.clip_id], 4.0), cell.entry.name
    assert [c.entry.start for c in page.cells] == [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]


async def test_clips_without_a_usable_image_get_a_card_saying_so(services: Services) -> None:
    pid = await seed_project(services)
    scene = await seed_scene(services, pid, "Only")
    external = GeneratedMedia(url="https://cdn.invalid/frame.png")
    cases = [
        await add_clip(services, pid, scene.id, "Prompt only", 0.0, image_prompt="neon rain on a windscreen"),
        await add_clip(services, pid, scene.id, "External", 5.0, generated_images=[external],
                       selected_image_id=external.id),
        await add_clip(services, pid, scene.id, "Not an image", 10.0, b"ID3\x03\x00" + b"\x00" * 64, "audio/mpeg"),
        await add_clip(services, pid, scene.id, "Broken", 15.0, b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
        await add_clip(services, pid, scene.id, "Deleted", 20.0, solid((0, 0, 255))),
    ]
    deleted = cases[-1].generated_images[0].media_id
    assert deleted is not None and await services.database.media.delete(deleted)

    page = await services.sheets.render(pid, SheetOptions(columns=5, thumbnail_width=256))
    assert page.clip_ids == [c.id for c in cases]
    for cell in page.cells:
        colour = mean(page.png, cell.thumbnail)
        assert near(colour, CARD, 12.0), f"{cell.entry.name}: a card, not the dark frame {FRAME} ({colour})"
        assert spread(page.png, cell.thumbnail) > 2.0, f"{cell.entry.name}: the card carries text"


async def test_large_projects_split_into_pages_and_a_page_past_the_last_is_refused(services: Services) -> None:
    pid = await seed_project(services)
    scene = await seed_scene(services, pid, "Long")
    shots = [await add_clip(services, pid, scene.id, f"S{i}", i * 2.0, duration=2.0) for i in range(30)]
    first = await services.sheets.render(pid, SheetOptions(columns=4, thumbnail_width=96))
    second = await services.sheets.render(pid, SheetOptions(columns=4, thumbnail_width=96, page=2))
    assert (first.pages, second.pages) == (2, 2)
    assert (len(first.cells), len(second.cells)) == (24, 6)
    assert first.clip_ids + second.clip_ids == [s.id for s in shots]
    assert png_size(second) == (second.width, second.height) and second.height < first.height
    with pytest.raises(ValidationError, match="page: is 3 but the sheet has 2 pages"):
        await services.sheets.render(pid, SheetOptions(columns=4, thumbnail_width=96, page=3))


async def test_a_render_writes_nothing_and_is_cached_until_something_shown_changes(services: Services) -> None:
    pid = await seed_project(services)
    scene = await seed_scene(services, pid, "Verse")
    shot = await add_clip(services, pid, scene.id, "Shot", 0.0, solid((10, 200, 30)))
    before = await snapshot(services)
    page = await services.sheets.render(pid, SheetOptions())
    assert await services.sheets.render(pid, SheetOptions()) is page
    assert await snapshot(services) == before, "rendering (and caching) wrote nothing to the database"

    await services.clips.update(shot.id, ClipPatch(name="Renamed"))
    renamed = await services.sheets.render(pid, SheetOptions())
    assert renamed is not page and renamed.png != page.png
    assert (await services.sheets.render(pid, SheetOptions(captions=False))).png != renamed.png


async def test_captions_are_optional_and_a_scene_narrows_the_sheet(services: Services) -> None:
    pid = await seed_project(services)
    act = await seed_scene(services, pid, "Act", order=0)
    other = await seed_scene(services, pid, "Other", order=1)
    mine = await add_clip(services, pid, act.id, "Mine", 0.0, solid((200, 10, 10)))
    await add_clip(services, pid, other.id, "Theirs", 0.0, solid((10, 10, 200)))
    with_captions = await services.sheets.render(pid, SheetOptions(), scene_id=act.id)
    assert with_captions.clip_ids == [mine.id]
    bare = await services.sheets.render(pid, SheetOptions(captions=False), scene_id=act.id)
    assert bare.height < with_captions.height and all(c.caption is None for c in bare.cells)
    with pytest.raises(NotFoundError, match="scene"):
        await services.sheets.render(pid, SheetOptions(), scene_id=pid)
    with pytest.raises(NotFoundError, match="project"):
        await services.sheets.render(act.id, SheetOptions())


async def test_a_stored_sheet_is_a_png_of_the_project_in_the_media_store(services: Services) -> None:
    pid = await seed_project(services)
    scene = await seed_scene(services, pid, "Verse")
    await add_clip(services, pid, scene.id, "Shot", 0.0, solid((10, 200, 30)))
    stored = await services.sheets.store(pid, SheetOptions())
    info, data = await services.database.media.get(stored.media.id)
    assert (info.content_type, info.project_id, data) == ("image/png", pid, stored.page.png)
    with pytest.raises(ValidationError, match="columns"):
        await services.sheets.store(pid, SheetOptions(columns=20))
    assert [m.id for m in (await services.database.media.list(project_id=pid)).items if m.filename.startswith(
        "contact-sheet")] == [stored.media.id]
