"""An imported timeline's music sets the new project's music fields together: the media id of a stored file and
its length (the exported project's own ``music_duration`` on a round trip; else the audio clip's length, to the
frame); music outside the media store sets neither."""

from __future__ import annotations

import base64

import opentimelineio as otio
import pytest

from mcp_storyboard.services.container import Services
from mcp_storyboard.services.export.timing import FrameRate
from tests.media_samples import MP3
from tests.seed import seed_project
from tests.services.export_world import build_world

pytestmark = pytest.mark.anyio


async def test_an_otio_round_trip_keeps_the_music_and_its_length(services: Services) -> None:
    world = await build_world(services)  # 60 s of music under a 13 s timeline
    exported = await services.timelines.export(world.project_id, "otio", "24")
    imported = await services.timelines.import_file(media_id=exported.id)
    old, new = [await services.repositories.projects.get(p) for p in (world.project_id, imported.id)]
    assert (new.music_media_id, new.music_duration) == (old.music_media_id, 60.0)


async def test_an_xml_round_trip_takes_the_length_of_the_audio_clip(services: Services) -> None:
    world = await build_world(services)
    exported = await services.timelines.export(world.project_id, "fcp_xml", "25")
    imported = await services.timelines.import_file(media_id=exported.id)
    old, new = [await services.repositories.projects.get(p) for p in (world.project_id, imported.id)]
    # FCP XML drops clip metadata: what comes back is the audio clip, cut to the 13-second picture.
    assert (new.music_media_id, new.music_duration) == (old.music_media_id, 13.0)


def foreign_otio(music_url: str, frames: int, rate: FrameRate) -> str:
    """An .otio as another tool writes it: one video clip and an audio clip, no storyboard metadata."""
    timeline = otio.schema.Timeline(name="From the edit")
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    video.append(otio.schema.Clip(name="Shot", source_range=rate.range(0, 2 * frames),
                                  media_reference=otio.schema.ExternalReference(target_url="https://example.com/a.png")))
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    audio.append(otio.schema.Clip(name="song", source_range=rate.range(0, frames),
                                  media_reference=otio.schema.ExternalReference(target_url=music_url)))
    timeline.tracks.extend([video, audio])
    return base64.b64encode(otio.adapters.write_to_string(timeline, "otio_json").encode()).decode()


@pytest.mark.parametrize(("rate", "frames", "seconds"), [("25", 250, 10.0), ("29.97", 300, 10.01)])
async def test_an_audio_clip_without_metadata_gives_the_music_its_length(
    services: Services, rate: str, frames: int, seconds: float
) -> None:
    pid = await seed_project(services)
    song = await services.database.media.put(MP3, content_type="audio/mpeg", filename="song.mp3", project_id=pid)
    upload = foreign_otio(song.uri, frames, FrameRate.named(rate))
    imported = await services.timelines.import_file(filename="edit.otio", content_base64=upload)
    project = await services.repositories.projects.get(imported.id)
    assert (project.music_media_id, project.music_duration) == (song.id, seconds)  # 300 frames at 30000/1001


async def test_music_outside_the_media_store_sets_no_music_fields(services: Services) -> None:
    upload = foreign_otio("https://example.com/song.mp3", 250, FrameRate.named("25"))
    imported = await services.timelines.import_file(filename="edit.otio", content_base64=upload)
    project = await services.repositories.projects.get(imported.id)
    assert (project.music_media_id, project.music_duration) == (None, None)
