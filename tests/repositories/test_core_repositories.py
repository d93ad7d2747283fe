"""Contract suite for projects, scenes, clips and style templates, run unchanged on every backend."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import DuplicateKeyConflict, NotFoundError
from mcp_storyboard.models.clips import Clip, GeneratedMedia
from mcp_storyboard.models.projects import Project, ProjectPatch
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.models.style_templates import StyleTemplate
from mcp_storyboard.repositories.clips import ClipRepository
from mcp_storyboard.repositories.counters import CounterRepository
from mcp_storyboard.repositories.projects import ProjectRepository
from mcp_storyboard.repositories.scenes import SceneRepository
from mcp_storyboard.repositories.style_templates import StyleTemplateRepository


async def test_project_crud_round_trips_every_field_and_hides_mongo_ids(db: Database) -> None:
    repo = ProjectRepository(db)
    project = await repo.insert(Project(name="Night Drive", description="synthwave video", music_duration=215.5))
    assert await repo.get(project.id) == project
    raw = await db.collection("projects").find_one({"id": project.id})
    assert "_id" in raw and "_id" not in (await repo.get(project.id)).model_dump()
    assert await repo.delete(project.id) is True
    assert await repo.find(project.id) is None
    with pytest.raises(NotFoundError, match=f"project '{project.id}' does not exist"):
        await repo.get(project.id)


async def test_a_patch_sets_given_fields_clears_explicit_nulls_and_bumps_updated_at(db: Database) -> None:
    repo = ProjectRepository(db)
    project = await repo.insert(Project(name="A", music_duration=10.0))
    await anyio.sleep(0.01)
    updated = await repo.apply_patch(project.id, ProjectPatch.model_validate({"name": "B", "music_duration": None}))
    assert (updated.name, updated.music_duration, updated.description) == ("B", None, "")
    assert updated.updated_at > project.updated_at
    assert updated.created_at == project.created_at


async def test_updating_a_missing_document_raises_not_found(db: Database) -> None:
    with pytest.raises(NotFoundError):
        await ProjectRepository(db).apply_patch("nope", ProjectPatch(name="x"))


async def test_a_duplicate_id_becomes_a_conflict_naming_the_field(db: Database) -> None:
    repo = ProjectRepository(db)
    project = await repo.insert(Project(name="A"))
    with pytest.raises(DuplicateKeyConflict) as caught:
        await repo.insert(Project(id=project.id, name="B"))
    assert caught.value.field == "id"
    assert "projects.id" in str(caught.value)


async def test_projects_list_newest_first_across_pages_with_escaped_name_search(db: Database) -> None:
    repo = ProjectRepository(db)
    base = Project(name="x").created_at
    for i in range(7):
        await repo.insert(Project(name=f"Clip (v{i})" if i % 2 else f"Other {i}", created_at=base + timedelta(seconds=i)))
    first = await repo.list_page(limit=3)
    second = await repo.list_page(limit=3, cursor=first.next_cursor)
    third = await repo.list_page(limit=3, cursor=second.next_cursor)
    names = [p.name for p in first.items + second.items + third.items]
    assert names == ["Other 6", "Clip (v5)", "Other 4", "Clip (v3)", "Other 2", "Clip (v1)", "Other 0"]
    assert third.next_cursor is None
    found = await repo.list_page(name_contains="(v3")  # regex metacharacters are plain text
    assert [p.name for p in found.items] == ["Clip (v3)"]
    assert (await repo.list_page(name_contains=".*")).items == []


async def test_scenes_of_a_project_come_back_in_order_with_siblings_and_alternates(db: Database) -> None:
    repo = SceneRepository(db)
    b = await repo.insert(Scene(project_id="p", name="B", order=1))
    a = await repo.insert(Scene(project_id="p", name="A", order=0))
    sub = await repo.insert(Scene(project_id="p", name="A.1", order=0, parent_scene_id=a.id))
    alt = await repo.insert(Scene(project_id="p", name="A A1", order=0, parent_scene_id=a.id, is_alternate=True, alternate_number=1))
    await repo.insert(Scene(project_id="other", name="Z"))
    assert [s.name for s in await repo.siblings("p", None)] == ["A", "B"]
    assert [s.id for s in await repo.siblings("p", a.id)] == [sub.id]
    assert [s.id for s in await repo.alternates_of(a.id)] == [alt.id]
    assert {s.id for s in await repo.list_for_project("p")} == {a.id, b.id, sub.id, alt.id}
    await repo.set_orders([(a.id, 1), (b.id, 0)])
    assert [s.name for s in await repo.siblings("p", None)] == ["B", "A"]


async def test_clips_come_back_in_scene_order_and_main_clips_in_timeline_order(db: Database) -> None:
    repo = ClipRepository(db)
    c1 = await repo.insert(Clip(scene_id="s", project_id="p", order=1, timeline_position=0, duration=5))
    c2 = await repo.insert(Clip(scene_id="s", project_id="p", order=0, timeline_position=5, duration=5))
    await repo.insert(Clip(scene_id="s", project_id="p", order=2, timeline_position=5, duration=5, alternate_of=c2.id, alternate_number=1))
    await repo.insert(Clip(scene_id="t", project_id="p", order=0, timeline_position=0))
    assert [c.id for c in (await repo.list_for_scene("s"))][:2] == [c2.id, c1.id]
    assert [c.id for c in await repo.main_timeline("s")] == [c1.id, c2.id]  # the alternate shares c2's slot
    assert len(await repo.list_for_project("p")) == 4


async def test_the_first_gallery_entry_is_selected_and_selection_checks_the_entry_exists(db: Database) -> None:
    repo = ClipRepository(db)
    clip = await repo.insert(Clip(scene_id="s", project_id="p"))
    first = GeneratedMedia(url="https://x/1.png", prompt="a")
    second = GeneratedMedia(url="https://x/2.png", prompt="b")
    after_first = await repo.add_media(clip.id, "image", first)
    assert after_first.selected_image_id == first.id
    after_second = await repo.add_media(clip.id, "image", second)
    assert [m.id for m in after_second.generated_images] == [first.id, second.id]
    assert after_second.selected_image_id == first.id
    assert (await repo.select_media(clip.id, "image", second.id)).selected_image_id == second.id
    with pytest.raises(NotFoundError, match="gallery image 'missing' does not exist"):
        await repo.select_media(clip.id, "image", "missing")
    with pytest.raises(NotFoundError, match="gallery video"):
        await repo.select_media(clip.id, "video", first.id)
    after_remove = await repo.remove_media(clip.id, "image", second.id)
    assert after_remove.selected_image_id == first.id
    assert [m.id for m in after_remove.generated_images] == [first.id]


async def test_concurrent_first_adds_select_exactly_one_entry(db: Database) -> None:
    repo = ClipRepository(db)
    clip = await repo.insert(Clip(scene_id="s", project_id="p"))
    entries = [GeneratedMedia(url=f"https://x/{i}.png") for i in range(5)]
    async with anyio.create_task_group() as tg:
        for entry in entries:
            tg.start_soon(repo.add_media, clip.id, "video", entry)
    stored = await repo.get(clip.id)
    assert len(stored.generated_videos) == 5
    assert stored.selected_video_id in {e.id for e in entries}


async def test_clearing_a_character_reference_touches_only_its_clips(db: Database) -> None:
    repo = ClipRepository(db)
    a = await repo.insert(Clip(scene_id="s", project_id="p", character_id="ch1"))
    b = await repo.insert(Clip(scene_id="s", project_id="p", character_id="ch2"))
    assert await repo.clear_reference("character_id", "ch1") == 1
    assert (await repo.get(a.id)).character_id is None
    assert (await repo.get(b.id)).character_id == "ch2"


async def test_templates_list_by_use_count_with_the_library_and_increment_atomically(db: Database) -> None:
    repo = StyleTemplateRepository(db)
    noir = await repo.insert(StyleTemplate(project_id="p", name="Noir"))
    lib = await repo.insert(StyleTemplate(project_id=None, name="Anime", use_count=3))
    await repo.insert(StyleTemplate(project_id="other", name="Elsewhere", use_count=9))
    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(repo.increment_use, noir.id)
    page = await repo.page_for_project("p")
    assert [(t.name, t.use_count) for t in page.items] == [("Noir", 5), ("Anime", 3)]
    assert [t.id for t in (await repo.page_for_project(None)).items] == [lib.id]


async def test_counters_hand_out_distinct_numbers_under_concurrency(db: Database) -> None:
    counters = CounterRepository(db)
    got: list[int] = []

    async def take() -> None:
        got.append(await counters.next_value("scene-alt:x", at_least=2))

    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(take)
    assert sorted(got) == list(range(3, 11))


async def test_a_legacy_character_without_facefusion_fields_reads_with_the_documented_defaults(db: Database) -> None:
    from mcp_storyboard.repositories.characters import CharacterRepository

    await db.collection("characters").insert_one(
        {"id": "c1", "project_id": "p1", "name": "Ava", "description": "", "reference_images": [], "lora": "ava_v2",
         "trigger_words": "ava woman", "style_notes": "red coat"}
    )
    character = await CharacterRepository(db).get("c1")
    assert character.facefusion_processing_history == []
    assert character.facefusion_preferred_settings is None
    gallery = character.facefusion_output_gallery
    assert (gallery.enhanced_faces, gallery.age_variants, gallery.swapped_faces, gallery.edited_expressions,
            gallery.custom_outputs) == ([], {}, [], [], [])
    assert (character.lora, character.trigger_words) == ("ava_v2", "ava woman")


async def test_a_legacy_clip_with_plain_url_gallery_entries_reads_them_as_selectable_objects(db: Database) -> None:
    await db.collection("clips").insert_one(
        {"id": "k1", "scene_id": "s", "project_id": "p", "length": 3.5, "generated_images": ["https://x/a.png"]}
    )
    repo = ClipRepository(db)
    clip = await repo.get("k1")
    assert clip.duration == 3.5
    entry = clip.generated_images[0]
    assert entry.url == "https://x/a.png" and entry.id == (await repo.get("k1")).generated_images[0].id
    # A legacy entry can be selected by its derived id (matched on the stored document only if it was migrated).
    assert clip.selected_image_id is None
