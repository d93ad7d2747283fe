from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.indexes import missing_indexes
from mcp_storyboard.db.migrations import apply_migrations, pending_migrations
from mcp_storyboard.db.migrations.m0003_name_keys import Named, plan, suffixed
from mcp_storyboard.db.setup import prepare_database
from mcp_storyboard.errors import NameTaken
from mcp_storyboard.models import Character, StyleTemplate
from mcp_storyboard.repositories.characters import CharacterRepository
from mcp_storyboard.repositories.style_templates import StyleTemplateRepository

LEGACY = {"id": "c1", "project_id": "p1", "name": "Ava", "description": "", "reference_images": []}
EMPTY_GALLERY = {"enhanced_faces": [], "age_variants": {}, "swapped_faces": [], "edited_expressions": [], "custom_outputs": []}


async def test_dry_run_reports_what_would_change_and_changes_nothing(database: Database) -> None:
    await database.collection("characters").insert_one(dict(LEGACY))
    results = await apply_migrations(database, dry_run=True)
    assert [(r.version, r.changed, r.dry_run) for r in results] == [(1, 1, True), (2, 0, True), (3, 1, True),
                                                                           (4, 0, True), (5, 0, True)]
    stored = await database.collection("characters").find_one({"id": "c1"}, {"_id": 0})
    assert "facefusion_processing_history" not in stored and "name_key" not in stored
    assert [m.version for m in await pending_migrations(database)] == [1, 2, 3, 4, 5]


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
        (1, "characters_facefusion_fields", 1), (2, "clip_gallery_entries_as_objects", 0), (3, "unique_name_keys", 1),
        (4, "scene_clip_stats", 0), (5, "database_model_keywords", 0)]


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


# -- 0003: name keys and unique names ignoring case ------------------------------------------------------------------
def _at(day: int) -> datetime:
    return datetime(2025, 1, day, tzinfo=UTC)


def _legacy(collection: str, doc_id: str, project_id: str | None, name: str, day: int | None) -> dict[str, Any]:
    """A document as written before name_key existed (a character, or a style template)."""
    doc: dict[str, Any] = {"id": doc_id, "project_id": project_id, "name": name, "description": f"of {doc_id}"}
    if day is not None:
        doc["created_at"] = doc["updated_at"] = _at(day)
    if collection == "characters":
        doc["reference_images"] = []
    return doc


COLLIDING = {
    "characters": [
        ("c-new", "p1", "alice", 3),
        ("c-old", "p1", "Alice", 2),
        ("c-mid", "p1", "ALICE", 2),  # same created_at as c-old: the id decides, c-mid is older
        ("c-two", "p1", "Alice (2)", 5),  # already holds the first suffix: the renames skip it
        ("c-legacy", "p1", "Straße", None),  # no created_at: the oldest
        ("c-strasse", "p1", "STRASSE", 1),
        ("c-other", "p2", "alice", 9),  # another project: no collision
    ],
    "style_templates": [
        ("t-lib-old", None, "Noir", 1),
        ("t-lib-new", None, "NOIR", 2),
        ("t-proj", "p1", "noir", 3),  # a project's template does not collide with the library's
    ],
}
RENAMED = {
    "c-mid": "ALICE", "c-old": "Alice (3)", "c-new": "alice (4)", "c-strasse": "STRASSE (2)", "t-lib-new": "NOIR (2)",
}


async def _seed_colliding(database: Database) -> None:
    for collection, rows in COLLIDING.items():
        await database.collection(collection).insert_many([_legacy(collection, *row) for row in rows])


async def _names(database: Database, collection: str) -> dict[str, tuple[str, str | None]]:
    docs = await database.collection(collection).find({}, {"_id": 0}).to_list(None)
    return {d["id"]: (d["name"], d.get("name_key")) for d in docs}


async def test_name_keys_are_backfilled_and_later_holders_of_a_name_renamed_keeping_the_oldest(database: Database) -> None:
    await _seed_colliding(database)
    lines: list[str] = []
    results = await apply_migrations(database, report=lines.append)
    assert [(r.version, r.changed) for r in results][2] == (3, 10)  # every document got its key; 4 of them renamed
    characters = await _names(database, "characters")
    assert characters == {
        "c-mid": ("ALICE", "alice"), "c-old": ("Alice (3)", "alice (3)"), "c-new": ("alice (4)", "alice (4)"),
        "c-two": ("Alice (2)", "alice (2)"), "c-legacy": ("Straße", "strasse"), "c-strasse": ("STRASSE (2)", "strasse (2)"),
        "c-other": ("alice", "alice"),
    }  # fmt: skip
    templates = await _names(database, "style_templates")
    assert templates == {"t-lib-old": ("Noir", "noir"), "t-lib-new": ("NOIR (2)", "noir (2)"), "t-proj": ("noir", "noir")}
    assert sorted(lines) == sorted([
        "characters in project p1: renamed 'Alice' (c-old) to 'Alice (3)'; 'ALICE' (c-mid) is older and keeps its name",
        "characters in project p1: renamed 'alice' (c-new) to 'alice (4)'; 'ALICE' (c-mid) is older and keeps its name",
        "characters in project p1: renamed 'STRASSE' (c-strasse) to 'STRASSE (2)'; 'Straße' (c-legacy) is older and "
        "keeps its name",
        "style_templates in the library: renamed 'NOIR' (t-lib-new) to 'NOIR (2)'; 'Noir' (t-lib-old) is older and "
        "keeps its name",
    ])  # fmt: skip
    renamed = await database.collection("characters").find_one({"id": "c-new"}, {"_id": 0})
    assert renamed["description"] == "of c-new" and renamed["updated_at"] > _at(28)  # only name, key and time changed


async def test_after_the_migration_the_unique_index_refuses_a_name_taken_ignoring_case(database: Database) -> None:
    await _seed_colliding(database)
    await apply_migrations(database, report=lambda line: None)
    assert (await prepare_database(database, report=lambda line: None)) == []  # nothing pending, indexes complete
    assert await missing_indexes(database) == []
    with pytest.raises(NameTaken, match="c-legacy"):
        await CharacterRepository(database).insert(Character(project_id="p1", name="STRASSE"))
    with pytest.raises(NameTaken, match="the template library already has style template t-lib-old"):
        await StyleTemplateRepository(database).insert(StyleTemplate(project_id=None, name="nOIR"))
    await StyleTemplateRepository(database).insert(StyleTemplate(project_id="p2", name="Noir"))


async def test_the_dry_run_lists_the_renames_and_writes_nothing(database: Database) -> None:
    await _seed_colliding(database)
    before = {c: await _names(database, c) for c in COLLIDING}
    lines: list[str] = []
    results = await apply_migrations(database, dry_run=True, report=lines.append)
    assert [(r.version, r.changed) for r in results][2] == (3, 10)
    assert len(lines) == 4 and all(" would rename " in line for line in lines)
    assert "characters in project p1: would rename 'alice' (c-new) to 'alice (4)'" in "\n".join(lines)
    assert {c: await _names(database, c) for c in COLLIDING} == before
    assert not [ix for ix in await database.list_indexes("characters") if "name_key" in dict(ix["key"])]


async def test_start_up_migrates_an_old_database_with_colliding_names_before_building_the_unique_index(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await _seed_colliding(database)
    await database.collection("characters").create_index([("id", 1)], unique=True, name="id_1")  # an old database
    with caplog.at_level(logging.WARNING, logger="mcp_storyboard.migrations"):
        applied = await prepare_database(database)
    assert [r.version for r in applied] == [1, 2, 3, 4, 5]
    assert {d: n for d, (n, _) in (await _names(database, "characters")).items() if d in RENAMED} == {
        d: n for d, n in RENAMED.items() if d.startswith("c-")
    }
    assert sum(" renamed " in r.getMessage() for r in caplog.records) == 4
    assert await missing_indexes(database) == []


def test_a_suffix_keeps_the_name_within_its_limit_and_skips_keys_already_taken() -> None:
    long = "x" * 199 + "Y"
    assert suffixed(long, 2) == "x" * 196 + " (2)" and len(suffixed(long, 12)) == 200
    documents = [Named("a", "p", "Ann", "ann", _at(1)), Named("b", "p", "ANN", None, _at(2)),
                 Named("c", "p", "ann (2)", None, _at(3)), Named("d", "p", "Bob", "stale", _at(1))]
    stale, renames = plan("characters", documents)
    assert [(r.document.id, r.new_name, r.kept.id) for r in renames] == [("b", "ANN (3)", "a")]
    assert [d.id for d in stale] == ["c", "d"]  # b is renamed (its key comes with the new name)


async def test_a_colliding_name_written_while_the_migration_runs_is_renamed_by_another_pass(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcp_storyboard.db.migrations import m0003_name_keys

    await _seed_colliding(database)
    write = m0003_name_keys._write
    passes: list[str] = []

    async def write_then_a_rival_slips_in(db: Database, collection: str, *args: Any) -> int:
        changed = await write(db, collection, *args)
        if collection == "characters" and not passes:  # another process writes before the index exists
            rival = {**_legacy(collection, "c-rival", "p1", "STRASSE (2)", 28), "name_key": "strasse (2)"}
            await db.collection(collection).insert_one(rival)
        passes.append(collection)
        return changed

    monkeypatch.setattr(m0003_name_keys, "_write", write_then_a_rival_slips_in)
    lines: list[str] = []
    await apply_migrations(database, report=lines.append)
    assert passes == ["characters", "characters", "style_templates"]
    assert (await _names(database, "characters"))["c-rival"] == ("STRASSE (2) (2)", "strasse (2) (2)")
    assert lines[-2].startswith("characters in project p1: renamed 'STRASSE (2)' (c-rival) to 'STRASSE (2) (2)'")
    assert not [spec for spec in await missing_indexes(database) if spec.migration == 3]  # both were built


async def test_a_start_on_an_up_to_date_database_lists_the_indexes_once(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await prepare_database(database, report=lambda line: None)
    import mcp_storyboard.db.indexes as indexes

    listings: list[str] = []
    original = database.list_indexes

    async def listing(collection: str) -> Any:
        listings.append(collection)
        return await original(collection)

    monkeypatch.setattr(database, "list_indexes", listing)
    assert await prepare_database(database, report=lambda line: None) == []
    assert sorted(listings) == sorted(indexes.COLLECTIONS)  # one pass: nothing was pending, nothing deferred
    assert await missing_indexes(database) == []
