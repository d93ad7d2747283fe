"""The media service on every backend: what goes into the store (checked content, an existing project, the upload
cap), deleting a file with the references to it, and the orphans a half-failed project delete leaves."""

from __future__ import annotations

import base64
from typing import Any

import anyio
import httpx2
import pytest

from mcp_storyboard.errors import InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.integrations.media_fetch import MediaFetcher
from mcp_storyboard.models import Character
from mcp_storyboard.models.clips import GeneratedMedia, legacy_media_id
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.media.service import UPLOAD_MAX_BYTES
from tests.media_samples import JPEG, MP4, b64, png
from tests.seed import seed_clip, seed_project, snapshot

IMAGE = png()


async def upload(services: Services, project_id: str, data: bytes = IMAGE, mime: str = "image/png") -> str:
    return (await services.media.upload(project_id, "shot.png", b64(data), mime)).id


async def test_an_upload_stores_the_decoded_bytes_under_the_checked_type_in_the_project(services: Services) -> None:
    pid = await seed_project(services)
    item = await services.media.upload(pid, "renders/../shot 1.png", b64(IMAGE), "image/PNG")
    assert (item.uri, item.filename, item.mime_type, item.size, item.project_id) == (
        f"storyboard://media/{item.id}", "shot 1.png", "image/png", len(IMAGE), pid
    )
    info, data = await services.database.media.get(item.id)
    assert (data, info.content_type) == (IMAGE, "image/png")
    listed = await services.media.list_page(project_id=pid)
    assert [i.id for i in listed.items] == [item.id]


@pytest.mark.parametrize(
    "encoded",
    [
        "data:image/png;base64," + b64(IMAGE),
        base64.urlsafe_b64encode(IMAGE).decode().rstrip("="),
        "\n".join(b64(IMAGE)[i : i + 76] for i in range(0, len(b64(IMAGE)), 76)),
    ],
    ids=["data-uri", "urlsafe-unpadded", "wrapped-lines"],
)
async def test_common_base64_spellings_decode_to_the_same_file(services: Services, encoded: str) -> None:
    pid = await seed_project(services)
    item = await services.media.upload(pid, "a.png", encoded, "image/png")
    assert (await services.database.media.get(item.id))[1] == IMAGE


async def test_refused_uploads_name_the_field_and_store_nothing(services: Services) -> None:
    pid = await seed_project(services)
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"content_base64": "not base64 at all!"}, ValidationError, "content_base64: is not valid base64"),
        ({"content_base64": " \n "}, ValidationError, "content_base64: is empty"),
        ({"mime_type": "image/jpeg"}, ValidationError, "'image/jpeg' does not match the content, which is image/png"),
        ({"mime_type": "text/plain"}, ValidationError, "mime_type: 'text/plain' is not accepted"),
        ({"content_base64": b64(b"plain words")}, ValidationError, "content: is not a recognised image"),
        ({"content_base64": "A" * (UPLOAD_MAX_BYTES // 3 * 4 + 8)}, ValidationError,
         "over the 3000000-byte upload limit. Files up to about 3 MB fit in upload_media (an HTTP request is capped "
         "at 4 MiB); put a larger file on an http(s) URL and call import_media"),
        ({"project_id": "ghost"}, NotFoundError, "project 'ghost' does not exist"),
    ]
    before = await snapshot(services)
    for change, error, fragment in cases:
        arguments = {"project_id": pid, "filename": "a.png", "content_base64": b64(IMAGE), "mime_type": "image/png"}
        with pytest.raises(error) as refused:
            await services.media.upload(**{**arguments, **change})
        assert fragment in str(refused.value)
    assert await snapshot(services) == before


async def test_the_store_limit_caps_uploads_below_the_upload_cap(services: Services) -> None:
    pid = await seed_project(services)
    services.database.media.max_bytes = 64
    with pytest.raises(ValidationError, match="over the 64-byte upload limit"):
        await services.media.upload(pid, "a.mp4", b64(MP4 + b"\x00" * 64), "video/mp4")
    assert (await services.media.list_page()).items == []


async def test_an_upload_racing_the_delete_of_its_project_leaves_no_file(services: Services) -> None:
    pid = await seed_project(services)
    store = services.database.media
    put = store.put

    async def put_while_the_project_goes(data: bytes, **kwargs: Any) -> Any:
        await services.repositories.projects.delete(pid)  # the project's delete ran between check and store
        return await put(data, **kwargs)

    store.put = put_while_the_project_goes  # type: ignore[method-assign]
    with pytest.raises(NotFoundError, match="deleted while the file was stored"):
        await services.media.upload(pid, "a.png", b64(IMAGE), "image/png")
    assert (await services.media.list_page()).items == []


async def test_import_stores_the_download_and_refuses_content_that_is_not_what_the_server_says(
    services: Services,
) -> None:
    pid = await seed_project(services)

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = JPEG if request.url.path == "/lies.png" else IMAGE
        return httpx2.Response(200, headers={"content-type": "image/png"}, content=body)

    async def dns(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    services.media.fetcher = MediaFetcher(transport=httpx2.MockTransport(handler), resolve=dns)
    item = await services.media.import_url(pid, "https://cdn.example/a/frame.png?sig=1")
    info, data = await services.database.media.get(item.id)
    assert (data, item.filename, item.mime_type) == (IMAGE, "frame.png", "image/png")
    assert info.metadata == {"source_url": "https://cdn.example/a/frame.png"}
    with pytest.raises(ValidationError, match="url: 'image/png' does not match the content, which is image/jpeg"):
        await services.media.import_url(pid, "https://cdn.example/lies.png")
    with pytest.raises(NotFoundError, match="project 'ghost'"):
        await services.media.import_url("ghost", "https://cdn.example/a.png")
    assert [i.id for i in (await services.media.list_page()).items] == [item.id]


# -- delete -------------------------------------------------------------------------------------------------------
async def test_a_file_nothing_refers_to_is_deleted_without_confirmation(services: Services) -> None:
    pid = await seed_project(services)
    media_id = await upload(services, pid)
    deletion = await services.media.delete(media_id, confirm=False)
    assert (deletion.cleared.clips, deletion.cleared.characters, deletion.cleared.projects) == (0, 0, 0)
    with pytest.raises(NotFoundError, match=f"media '{media_id}' does not exist. list_media shows"):
        await services.media.delete(media_id, confirm=True)


async def seed_references(services: Services) -> tuple[str, str, str, str]:
    """A file referred to from a clip's galleries (selected, by URL, as a legacy plain URL), media_url, a
    character's reference images and the project's soundtrack and thumbnail; returns (project, clip, character,
    media id)."""
    pid = await seed_project(services)
    media_id = await upload(services, pid)
    uri = f"storyboard://media/{media_id}"
    other = GeneratedMedia(url="https://x.test/keep.png")
    ours = GeneratedMedia(url=uri, media_id=media_id)
    shot = await seed_clip(services, pid, "Shot", generated_images=[ours, other], selected_image_id=ours.id,
                           generated_videos=[GeneratedMedia(url=uri)], media_url=uri)
    await services.database.collection("clips").update_one({"id": shot.id}, {"$push": {"generated_images": uri}})
    hero = await services.repositories.characters.insert(
        Character(project_id=pid, name="Hero", reference_images=[uri, "https://x.test/face.png"])
    )
    await services.repositories.projects.update_fields(pid, {"music_media_id": media_id, "thumbnail_url": uri})
    return pid, shot.id, hero.id, media_id


async def test_deleting_a_file_in_use_is_refused_with_its_references_and_changes_nothing(services: Services) -> None:
    pid, clip_id, character_id, media_id = await seed_references(services)
    before = await snapshot(services)
    with pytest.raises(InvalidStateError) as refused:
        await services.media.delete(media_id, confirm=False)
    assert refused.value.code == "confirmation-required"
    assert str(refused.value) == (
        f"media {media_id} is used by clip {clip_id} (generated_images), clip {clip_id} (generated_videos), "
        f"clip {clip_id} (media_url), character {character_id} (reference_images), project {pid} (music_media_id), "
        f"project {pid} (thumbnail_url). Call delete_media again with confirm=true to remove these references and "
        "the file"
    )
    assert await snapshot(services) == before


async def test_a_confirmed_delete_clears_every_reference_and_passes_the_selection_on(services: Services) -> None:
    pid, clip_id, character_id, media_id = await seed_references(services)
    deletion = await services.media.delete(media_id, confirm=True)
    assert (deletion.cleared.clips, deletion.cleared.characters, deletion.cleared.projects) == (1, 1, 1)
    assert len(deletion.references) == 6 and "references" not in deletion.model_dump()
    shot = await services.repositories.clips.get(clip_id)
    assert [m.url for m in shot.generated_images] == ["https://x.test/keep.png"]  # the legacy entry went too
    assert shot.selected_image_id == shot.generated_images[0].id
    assert (shot.generated_videos, shot.selected_video_id, shot.media_url) == ([], None, None)
    hero = await services.repositories.characters.get(character_id)
    assert hero.reference_images == ["https://x.test/face.png"]
    project = await services.repositories.projects.get(pid)
    assert (project.music_media_id, project.thumbnail_url) == (None, None)
    with pytest.raises(NotFoundError):
        await services.database.media.info(media_id)
    assert legacy_media_id(f"storyboard://media/{media_id}") not in {m.id for m in shot.generated_images}


@pytest.mark.requires_transactions
async def test_parallel_confirmed_deletes_of_one_file_all_answer_and_leave_nothing_behind(services: Services) -> None:
    _, clip_id, _, media_id = await seed_references(services)
    outcomes: list[str] = []

    async def delete() -> None:
        try:
            await services.media.delete(media_id, confirm=True)
            outcomes.append("deleted")
        except NotFoundError:
            outcomes.append("not-found")

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(delete)
    assert "deleted" in outcomes and len(outcomes) == 4
    assert (await services.media.list_page()).items == []
    shot = await services.repositories.clips.get(clip_id)
    assert shot.media_url is None and len(shot.generated_images) == 1


# -- orphans (gc-media) -------------------------------------------------------------------------------------------
async def test_orphans_are_the_files_of_projects_that_no_longer_exist(services: Services) -> None:
    live = await seed_project(services, "Live")
    gone = await seed_project(services, "Gone")
    kept = await upload(services, live)
    orphan = await upload(services, gone)
    loose = (await services.database.media.put(IMAGE, content_type="image/png")).id  # no project: never an orphan
    await services.repositories.projects.delete(gone)  # as a project delete that failed before its media step
    assert [o.id for o in await services.media.orphans()] == [orphan]
    assert await services.media.delete_orphans(await services.media.orphans()) == 1
    assert {i.id for i in (await services.media.list_page()).items} == {kept, loose}
    assert await services.media.orphans() == []
