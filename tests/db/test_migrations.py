from __future__ import annotations

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.migrations import apply_migrations, pending_migrations

LEGACY = {"id": "c1", "project_id": "p1", "name": "Ava", "description": "", "reference_images": []}
EMPTY_GALLERY = {"enhanced_faces": [], "age_variants": {}, "swapped_faces": [], "edited_expressions": [], "custom_outputs": []}


async def test_dry_run_reports_what_would_change_and_changes_nothing(database: Database) -> None:
    await database.collection("characters").insert_one(dict(LEGACY))
    results = await apply_migrations(database, dry_run=True)
    assert [(r.version, r.changed, r.dry_run) for r in results] == [(1, 1, True), (2, 0, True)]
    stored = await database.collection("characters").find_one({"id": "c1"}, {"_id": 0})
    assert "facefusion_processing_history" not in stored
    assert [m.version for m in await pending_migrations(database)] == [1, 2]


async def test_the_facefusion_migration_sets_the_documented_defaults(database: Database) -> None:
    characters = database.collection("characters")
    await characters.insert_one(dict(LEGACY))
    await characters.insert_one({**LEGACY, "id": "c2", "facefusion_processing_history": [{"id": "h"}]})
    results = await apply_migrations(database)
    assert [(r.version, r.changed) for r in results][0] == (1, 1)
    migrated = await characters.find_one({"id": "c1"}, {"_id": 0})
    assert migrated["facefusion_processing_history"] == []
    assert migrated["facefusion_preferred_settings"] is None
    assert migrated["facefusion_output_gallery"] == EMPTY_GALLERY
    untouched = await characters.find_one({"id": "c2"}, {"_id": 0})
    assert untouched["facefusion_processing_history"] == [{"id": "h"}]
    assert "facefusion_output_gallery" not in untouched


async def test_migrating_twice_changes_nothing_the_second_time(database: Database) -> None:
    await database.collection("characters").insert_one(dict(LEGACY))
    await apply_migrations(database)
    assert await apply_migrations(database) == []
    assert await pending_migrations(database) == []
    records = await database.collection("schema_migrations").find({}, {"_id": 0}).to_list(None)
    assert sorted((r["version"], r["name"], r["changed"]) for r in records) == [
        (1, "characters_facefusion_fields", 1), (2, "clip_gallery_entries_as_objects", 0)]


async def test_legacy_plain_url_gallery_entries_become_selectable_objects(database: Database) -> None:
    from mcp_storyboard.models.clips import legacy_media_id
    from mcp_storyboard.repositories.clips import ClipRepository

    clips = database.collection("clips")
    await clips.insert_one({"id": "k1", "scene_id": "s", "project_id": "p",
                            "generated_images": ["https://x/a.png", {"id": "e2", "url": "https://x/b.png"}]})
    await clips.insert_one({"id": "k2", "scene_id": "s", "project_id": "p", "generated_images": []})
    assert [(r.version, r.changed) for r in await apply_migrations(database, dry_run=True)][1] == (2, 1)
    assert [(r.version, r.changed) for r in await apply_migrations(database)][1] == (2, 1)
    stored = await clips.find_one({"id": "k1"}, {"_id": 0})
    assert stored["generated_images"][0]["id"] == legacy_media_id("https://x/a.png")
    assert stored["generated_images"][1] == {"id": "e2", "url": "https://x/b.png"}
    selected = await ClipRepository(database).select_media("k1", "image", legacy_media_id("https://x/a.png"))
    assert selected.selected_image_id == legacy_media_id("https://x/a.png")
