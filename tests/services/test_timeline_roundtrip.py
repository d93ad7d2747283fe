"""Export then import, on every backend, checked against the capability table (``services/export/formats.py``):
OTIO gives back everything; the other formats give back clip names, positions and durations, and the scenes,
alternates and metadata the table says they keep. The project has nested scenes, leading and inner gaps, a clip
alternate, a scene alternate, clips without media, a trailing empty scene and music."""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio
import pytest

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.export.formats import FORMATS, TimelineFormat
from mcp_storyboard.services.export.timing import FRAME_RATES, FrameRate
from tests.services.export_world import World, build_world, main_timeline

pytestmark = pytest.mark.anyio

CASES = [(fmt, rate) for fmt in FORMATS for rate in FRAME_RATES]
WHOLE_SECONDS_ON_FRAMES = {"24", "25", "30", "50", "60"}


def _expected_scenes(paths: list[str], fmt: TimelineFormat, rate: str, rows: list[tuple[str, str, float, float]]) -> list[str]:
    caps = FORMATS[fmt]
    if FrameRate.named(rate).is_drop_frame and not caps.drop_frame_markers:
        return []  # the scenes are lost; checked by name below
    if not caps.keeps_end_scenes:
        last_with_clips = max(paths.index(r[0]) for r in rows)
        # A scene after the last clip survives only as the ancestor of one before it.
        paths = [p for i, p in enumerate(paths) if i <= last_with_clips]
    return paths if caps.marker_case_kept else [p.upper() for p in paths]


@pytest.mark.parametrize(("fmt", "rate"), CASES, ids=[f"{f}@{r}" for f, r in CASES])
async def test_export_then_import_gives_back_what_the_table_promises(services: Services, fmt: TimelineFormat, rate: str) -> None:
    world = await build_world(services)
    caps = FORMATS[fmt]
    if FrameRate.named(rate).is_ntsc and not caps.ntsc_rates:
        with pytest.raises(ValidationError, match=rf"frame_rate: fcpx_xml cannot be written at {rate}"):
            await services.timelines.export(world.project_id, fmt, rate)
        return
    exported = await services.timelines.export(world.project_id, fmt, rate)
    imported = await services.timelines.import_file(media_id=exported.id, rate_name=rate if fmt == "edl" else None)
    assert imported.frame_rate == rate and imported.format == fmt

    paths, rows = await main_timeline(services, world.project_id)
    new_paths, new_rows = await main_timeline(services, imported.id)
    assert exported.clip_count == len(rows) == len(new_rows) == 5
    # Names and order always come back.
    assert [r[1] for r in new_rows] == [r[1] for r in rows]
    # Times come back to the frame: exactly where nothing was rounded, within one frame where something was.
    frame = float(1 / FRAME_RATES[rate])
    moved = set(exported.rounded)
    for old, new in zip(rows, new_rows, strict=True):
        if old[1] in moved or rate not in WHOLE_SECONDS_ON_FRAMES:
            assert abs(new[2] - old[2]) <= frame + 0.005 and abs(new[3] - old[3]) <= frame + 0.005, (old, new)
        else:
            assert new[2:] == old[2:], (old, new)
    if rate in WHOLE_SECONDS_ON_FRAMES:
        assert moved == set(), "whole seconds sit on frames at whole-number rates"
    else:
        assert moved >= {"Open", "Title"}, "a 2-second clip ends between frames at NTSC rates"
    expected = _expected_scenes(paths, fmt, rate, rows)
    if expected:
        assert new_paths == expected
        assert [(p.upper(), n) for p, n, *_ in new_rows] == [(p.upper(), n) for p, n, *_ in rows]
    else:
        assert new_paths == ["Night Drive"], "without markers every clip lands in one scene named after the timeline"

    tree = await services.projects.tree(imported.id)
    assert tree.clip_count == len(rows) + (2 if caps.keeps_alternates else 0)


async def test_otio_keeps_metadata_alternates_media_and_music(services: Services) -> None:
    world = await build_world(services)
    exported = await services.timelines.export(world.project_id, "otio", "24")
    imported = await services.timelines.import_file(media_id=exported.id)
    repos = services.repositories
    old = {c.name: c for c in await repos.clips.list_for_project(world.project_id)}
    new = {c.name: c for c in await repos.clips.list_for_project(imported.id)}
    assert set(new) == set(old)
    for name, clip in old.items():
        copy = new[name]
        assert (copy.type, copy.image_prompt, copy.video_prompt, copy.content, copy.timeline_position, copy.duration) == (
            clip.type, clip.image_prompt, clip.video_prompt, clip.content, clip.timeline_position, clip.duration), name
    # The clip alternate is an alternate of the new original, in the same scene.
    assert new["Open A1"].alternate_of == new["Open"].id and new["Open A1"].alternate_number == 1
    assert new["Open A1"].scene_id == new["Open"].scene_id
    # The scene alternate is an alternate of the new Chase, with its clip.
    scenes = {s.name: s for s in await repos.scenes.list_for_project(imported.id)}
    assert scenes["Chase take 2"].is_alternate and scenes["Chase take 2"].parent_scene_id == scenes["Chase"].id
    assert new["Run wide"].scene_id == scenes["Chase take 2"].id and new["Run wide"].timeline_position == 0.0
    assert scenes["Act 1"].lyrics == "la la"
    # Selected media: stored files keep their media id, external URLs stay URLs, missing media stays missing.
    assert new["Open"].generated_images[0].media_id == world.image_id
    assert new["Open"].selected_image_id == new["Open"].generated_images[0].id
    assert new["Run"].generated_videos[0].url.startswith("storyboard://media/") and new["Run"].selected_video_id
    assert new["Open A1"].generated_images[0].url == "https://example.com/open-b.png"
    assert new["Title"].generated_images == [] and new["Jump"].generated_images == []
    project = await repos.projects.get(imported.id)
    assert project.music_media_id == (await repos.projects.get(world.project_id)).music_media_id
    assert imported.media_count == 3  # Open, Open A1, Run
    # The scenes' stored clip numbers (what the project tree reads) are those of their clips.
    _, stored = await repos.scenes.list_with_clip_stats(imported.id)
    assert sorted(stored, key=lambda s: s.scene_id) == sorted(
        [await repos.clips.stats_of_scene(s.id) for s in scenes.values()], key=lambda s: s.scene_id)


async def test_the_files_carry_what_editors_read(services: Services) -> None:
    world = await build_world(services)
    edl = await services.timelines.export(world.project_id, "edl", "24")
    assert edl.text is not None and edl.text.startswith("TITLE: Night Drive")
    events = [line for line in edl.text.splitlines() if line[:3].isdigit()]
    assert len(events) == 5
    assert all(len(line.split()[1]) <= 8 for line in events), "CMX 3600 reel names have at most 8 characters"
    assert events[1].split()[1] == "AX", "a clip without media is an auxiliary source"
    assert "* LOC: 00:00:00:00 RED     ACT 1 / CHASE" in edl.text

    info, data = await services.database.media.get((await services.timelines.export(world.project_id, "otio", "29.97")).id)
    assert (info.filename, info.content_type, info.project_id) == ("Night Drive.otio", "application/json", world.project_id)
    timeline = otio.adapters.read_from_string(data.decode(), "otio_json")
    video, alternates, music = timeline.tracks
    assert video.enabled and not alternates.enabled and music.kind == otio.schema.TrackKind.Audio
    first = next(iter(video.find_clips()))
    assert Fraction(first.source_range.duration.rate).limit_denominator(1001) == Fraction(30000, 1001)
    assert first.metadata["storyboard"]["character"] == "Mara" and first.metadata["storyboard"]["image_prompt"] == "a neon road"
    assert [type(item).__name__ for item in video] == ["Clip", "Gap", "Clip", "Gap", "Clip", "Clip", "Clip"]
    assert isinstance(list(video.find_clips())[1].media_reference, otio.schema.MissingReference)
    assert [m.name for m in video.markers] == ["Outro"], "a scene after the last clip marks the track's end"


async def test_a_scene_exports_with_its_sub_scenes_only(services: Services) -> None:
    world = await build_world(services)
    act = next(s for s in await services.repositories.scenes.list_for_project(world.project_id) if s.name == "Act 1")
    exported = await services.timelines.export(world.project_id, "otio", "25", scene_id=act.id)
    assert (exported.clip_count, exported.duration) == (3, 8.0)
    imported = await services.timelines.import_file(media_id=exported.id, name="Act only")
    paths, rows = await main_timeline(services, imported.id)
    assert paths == ["Act 1", "Act 1 / Chase", "Act 1 / Crash"]
    assert rows == [("Act 1 / Chase", "Run", 1.0, 2.0), ("Act 1 / Chase", "Jump", 3.0, 1.0), ("Act 1 / Crash", "Boom", 4.0, 4.0)]


async def test_world_sanity(services: Services) -> None:
    world: World = await build_world(services)
    paths, rows = await main_timeline(services, world.project_id)
    assert paths == ["Intro", "Act 1", "Act 1 / Chase", "Act 1 / Crash", "Outro"]
    assert rows == [("Intro", "Open", 0.0, 2.0), ("Intro", "Title", 3.0, 2.0), ("Act 1 / Chase", "Run", 6.0, 2.0),
                    ("Act 1 / Chase", "Jump", 8.0, 1.0), ("Act 1 / Crash", "Boom", 9.0, 4.0)]
