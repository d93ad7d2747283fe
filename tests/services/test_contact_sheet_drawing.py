"""Contact sheets without a database: what a sheet shows, how it is split into pages, the limits of its options,
the font's accented letters, thumbnails decoded small, and the cards drawn where a clip has no image."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFile, ImageStat

from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.clips import Clip, GeneratedMedia
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.sheets import draw
from mcp_storyboard.services.sheets.entries import ClipEntry, SceneEntry, SheetContents, sheet_contents
from mcp_storyboard.services.sheets.layout import ROWS_PER_PAGE, Box, SheetOptions, paginate, place

PROJECT = Project(name="Night Drive")
NOT_A_GLYPH = "\ue000"  # private use: Roboto has no glyph for it, so it draws the font's box (.notdef)


def entry(name: str = "Shot", **fields: object) -> ClipEntry:
    values: dict[str, object] = {"clip_id": name, "name": name, "start": 0.0, "duration": 5.0, "character": "",
                                 "image": "none", "media_id": None, "url": None, "prompt": ""}
    return ClipEntry(**{**values, **fields})  # type: ignore[arg-type]


def scene(project: Project, name: str, order: int = 0, **fields: object) -> Scene:
    return Scene(project_id=project.id, name=name, order=order, **fields)  # type: ignore[arg-type]


def clip(target: Scene, name: str, position: float, **fields: object) -> Clip:
    return Clip(project_id=target.project_id, scene_id=target.id, name=name, timeline_position=position, **fields)  # type: ignore[arg-type]


def test_the_sheet_shows_main_scenes_depth_first_with_their_paths_and_main_clips_at_project_time() -> None:
    act = scene(PROJECT, "Act One", 0)
    chase = scene(PROJECT, "Chase", 0, parent_scene_id=act.id)
    finale = scene(PROJECT, "Finale", 1)
    alternate = scene(PROJECT, "Act One A1", 0, parent_scene_id=act.id, is_alternate=True, alternate_number=1)
    hero = Character(project_id=PROJECT.id, name="Zoë")
    stored = GeneratedMedia(url="storyboard://media/" + "1" * 8 + "-0000-4000-8000-" + "0" * 12)
    with_id = GeneratedMedia(url="https://cdn.example.com/a.png", media_id="2" * 8 + "-0000-4000-8000-" + "0" * 12)
    external = GeneratedMedia(url="https://cdn.example.com/b.png")
    second = clip(act, "Second", 4.0, generated_images=[with_id], selected_image_id=with_id.id)
    first = clip(act, "First", 0.0, duration=4.0, character_id=hero.id, generated_images=[stored],
                 selected_image_id=stored.id)
    clips = [
        second, first,
        clip(act, "First A1", 0.0, alternate_of=first.id, alternate_number=1),
        clip(chase, "Run", 1.0, generated_images=[external], selected_image_id=external.id, image_prompt="rain"),
        clip(finale, "End", 0.0, video_prompt="fade out"),
        clip(alternate, "Other take", 0.0),
    ]  # fmt: skip
    contents = sheet_contents(PROJECT, [finale, alternate, chase, act], clips, {hero.id: hero})
    assert [s.heading for s in contents.scenes] == ["Act One", "Act One › Chase", "Finale"]
    act_row, chase_row, finale_row = (s.clips for s in contents.scenes)
    assert [(c.name, c.start, c.character, c.image, c.media_id) for c in act_row] == [
        ("First", 0.0, "Zoë", "stored", "1" * 8 + "-0000-4000-8000-" + "0" * 12),
        ("Second", 4.0, "", "stored", "2" * 8 + "-0000-4000-8000-" + "0" * 12),
    ]
    # Chase follows its parent's own clips (9 s), the finale follows the chase (9 + 6 s).
    assert [(c.name, c.start, c.image, c.url, c.prompt) for c in chase_row] == [
        ("Run", 10.0, "external", "https://cdn.example.com/b.png", "rain")]
    assert [(c.name, c.start, c.image, c.prompt) for c in finale_row] == [("End", 15.0, "none", "fade out")]
    assert contents.clip_count == 4

    only_chase = sheet_contents(PROJECT, [finale, alternate, chase, act], clips, {}, scene_id=chase.id)
    assert [s.heading for s in only_chase.scenes] == ["Act One › Chase"]
    take = sheet_contents(PROJECT, [finale, alternate, chase, act], clips, {}, scene_id=alternate.id)
    assert [(s.heading, [c.name for c in s.clips]) for s in take.scenes] == [("Act One › Act One A1", ["Other take"])]
    with pytest.raises(NotFoundError, match="scene 'nope' does not exist"):
        sheet_contents(PROJECT, [act], clips, {}, scene_id="nope")


def test_the_fingerprint_changes_with_anything_shown() -> None:
    act = scene(PROJECT, "Act One")
    shot = clip(act, "Shot", 0.0)
    before = sheet_contents(PROJECT, [act], [shot], {}).fingerprint()
    assert sheet_contents(PROJECT, [act], [shot], {}).fingerprint() == before
    renamed = shot.model_copy(update={"name": "Shot 2"})
    assert sheet_contents(PROJECT, [act], [renamed], {}).fingerprint() != before


def test_pages_hold_at_most_six_rows_and_a_scene_carried_over_is_marked_continued() -> None:
    long = SceneEntry("a", ("Long",), tuple(entry(f"c{i}") for i in range(30)))  # 8 rows of 4
    empty = SceneEntry("b", ("Empty",), ())
    short = SceneEntry("c", ("Short",), (entry("last"),))
    pages = paginate(SheetContents("p", "P", (long, empty, short)), columns=4)
    assert ROWS_PER_PAGE == 6
    assert [[(b.scene.scene_id, b.continued, len(b.rows)) for b in page] for page in pages] == [
        [("a", False, 6)],
        [("a", True, 2), ("b", False, 1), ("c", False, 1)],
    ]
    shown = [e.clip_id for page in pages for b in page for row in b.rows for e in row]
    assert shown == [f"c{i}" for i in range(30)] + ["last"]
    layout = place(pages[1], SheetOptions(columns=4))
    assert [h.text for h in layout.headings] == ["Long (continued)", "Empty", "Short"]
    assert paginate(SheetContents("p", "P", ()), columns=4) == [[]]


def test_cells_sit_in_a_grid_and_captions_add_height() -> None:
    blocks = paginate(SheetContents("p", "P", (SceneEntry("a", ("A",), tuple(entry(f"c{i}") for i in range(5))),)), 2)[0]
    with_captions = place(blocks, SheetOptions(columns=2, thumbnail_width=160))
    without = place(blocks, SheetOptions(columns=2, thumbnail_width=160, captions=False))
    assert with_captions.width == without.width == 24 * 2 + 2 * 160 + 16
    assert [(c.thumbnail.x, c.thumbnail.width, c.thumbnail.height) for c in with_captions.cells[:2]] == [
        (24, 160, 90), (200, 160, 90)]
    assert with_captions.cells[0].thumbnail.y == with_captions.cells[1].thumbnail.y < with_captions.cells[2].thumbnail.y
    assert without.height < with_captions.height and all(c.caption is None for c in without.cells)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (SheetOptions(columns=0), "columns"),
        (SheetOptions(columns=11), "columns"),
        (SheetOptions(thumbnail_width=95), "thumbnail_width"),
        (SheetOptions(thumbnail_width=1025), "thumbnail_width"),
        (SheetOptions(columns=5, thumbnail_width=1000), "thumbnail_width"),
        (SheetOptions(page=0), "page"),
    ],
)
def test_options_out_of_range_are_refused_naming_the_field(options: SheetOptions, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        options.check()
    assert caught.value.field == field and str(caught.value).startswith(f"{field}: ")


def _glyph(text: str, size: int = 24) -> bytes:
    image = Image.new("L", (size * 4, size * 2), 0)
    ImageDraw.Draw(image).text((2, 2), text, font=draw.font(size), fill=255)
    return image.tobytes()


@pytest.mark.parametrize("letter", ["é", "ß", "ñ", "Ø", "ç"])
def test_accented_letters_draw_as_their_own_glyphs_not_the_box(letter: str) -> None:
    box = _glyph(NOT_A_GLYPH)
    assert any(box), "the missing-glyph box draws something"
    assert _glyph(letter) != box
    assert _glyph(letter) != _glyph(letter.encode("ascii", "ignore").decode() or "x")


def test_a_caption_with_accents_differs_from_one_with_boxes_in_their_place() -> None:
    accented = entry("Café Straße Niño", character="Zoë")
    boxed = entry(f"Caf{NOT_A_GLYPH} Stra{NOT_A_GLYPH}e Ni{NOT_A_GLYPH}o", character=f"Zo{NOT_A_GLYPH}")

    def caption(of: ClipEntry) -> Image.Image:
        image = Image.new("RGB", (400, 80), draw.PAPER)
        draw.draw_caption(ImageDraw.Draw(image), Box(0, 0, 400, 80), of, 16)
        return image

    assert ImageChops.difference(caption(accented), caption(boxed)).getbbox() is not None
    assert draw.caption_texts(accented) == ["Café Straße Niño", "00:00.00 · 5 s", "Zoë"]


def test_user_text_is_drawn_on_one_line_and_cut_to_fit() -> None:
    assert draw.plain("# Act\n1\t<b>\x00x") == "# Act 1 <b> x"
    face = draw.font(16)
    cut = draw.fitted("A very long clip name " * 10, face, 120)
    assert cut.endswith("…") and face.getlength(cut) <= 120
    lines = draw.wrapped("word " * 200, face, 150, 3)
    assert len(lines) == 3 and lines[-1].endswith("…")


def _jpeg(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG", quality=95)
    return out.getvalue()


def test_a_4k_frame_is_decoded_small_and_keeps_its_colour() -> None:
    thumbnail = draw.decode_thumbnail(_jpeg((3840, 2160), (200, 40, 90)), (320, 180))
    assert thumbnail is not None and thumbnail.size == (320, 180)
    r, g, b = ImageStat.Stat(thumbnail).mean
    assert abs(r - 200) < 4 and abs(g - 40) < 4 and abs(b - 90) < 4
    tall = draw.decode_thumbnail(_jpeg((100, 400), (0, 0, 0)), (320, 180))
    assert tall is not None and tall.size == (45, 180)  # letterboxed, scaled up to the cell's height
    assert draw.decode_thumbnail(b"not an image", (320, 180)) is None


def test_cards_say_why_a_clip_has_no_image() -> None:
    assert draw.card_lines(entry(image="none", prompt="neon rain"), None) == ("No image yet", "neon rain")
    assert draw.card_lines(entry(image="none"), None) == ("No image yet", "(no prompt)")
    assert draw.card_lines(entry(image="external", url="https://x.test/a.png"), None) == (
        "External image, not fetched", "https://x.test/a.png")
    assert draw.card_lines(entry(image="stored"), "gone")[0] == "Image unavailable"


def test_the_preview_stays_within_its_base64_budget() -> None:
    noisy = Image.effect_noise((2000, 2000), 100).convert("RGB")
    preview = draw.preview_jpeg(noisy, 150_000)
    assert preview is not None and len(preview) * 4 / 3 <= 150_004
    assert draw.preview_jpeg(noisy, 100) is None


def test_an_image_claiming_more_pixels_than_allowed_is_not_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 8_000, 8_000, 8, 2, 0, 0, 0)  # 64 Mpx of RGB (Pillow itself lets it through)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    assert 8_000 * 8_000 > draw.MAX_PIXELS

    def decoded(self: Image.Image) -> None:
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)
    assert draw.decode_thumbnail(bomb, (320, 180)) is None
