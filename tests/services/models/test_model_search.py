"""search_models' service on every backend: keyword matching, ranking, filters, escaping, pagination, keywords kept
in step with every write, and the migration that gives older models their keywords."""

from __future__ import annotations

import json

import anyio
import pytest

from mcp_storyboard.db.migrations.m0005_model_keywords import apply as backfill_keywords
from mcp_storyboard.errors import ValidationError
from mcp_storyboard.models.catalog import DatabaseModel, DatabaseModelPatch
from mcp_storyboard.models.catalog_search import ModelFilter, keyword_range
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.models.service import ModelService

ALL = ModelFilter()


def model(model_id: str, name: str, **fields: object) -> DatabaseModel:
    return DatabaseModel.model_validate({"id": model_id, "name": name, "type": "checkpoint", "path": model_id, **fields})


async def seed(models: ModelService) -> None:
    for m in [
        model("juggernautXL_v9.safetensors", "Juggernaut XL", tags=["photo", "realistic"]),
        model("dreamshaperXL.safetensors", "DreamShaper XL", description="A juggernaut-like all rounder"),
        model("anime_lora.safetensors", "Anime Lines", type="lora", tags=["anime"], trigger_words="juggernaut style"),
        model("juggernaut.safetensors", "Juggernaut", is_nsfw=True),
        model("old_pony.safetensors", "Pony Classic", is_active=False, tags=["anime", "pony"]),
    ]:
        await models.create(m)


async def ids(models: ModelService, text: str, where: ModelFilter = ALL) -> list[str]:
    return [m.id for m in (await models.search(text, where, limit=100)).items]


async def test_search_ranks_the_exact_name_first_then_name_words_then_tags_trigger_words_and_description(
    services: Services,
) -> None:
    await seed(services.models)
    assert await ids(services.models, "juggernaut") == [
        "juggernaut.safetensors",  # the whole name
        "juggernautXL_v9.safetensors",  # a word of the name
        "anime_lora.safetensors",  # trigger words
        "dreamshaperXL.safetensors",  # description only
    ]


async def test_every_word_must_match_as_a_prefix_in_any_field(services: Services) -> None:
    await seed(services.models)
    assert await ids(services.models, "jugg real") == ["juggernautXL_v9.safetensors"]
    assert await ids(services.models, "ANIME  pony") == ["old_pony.safetensors"]
    assert await ids(services.models, "nothing-like-it") == []


async def test_search_text_is_never_a_regex(services: Services) -> None:
    await seed(services.models)
    assert await ids(services.models, ".*") == [m.id for m in (await services.models.search("", ALL, limit=100)).items]
    assert await ids(services.models, "(q+)+$ juggernaut[") == []  # the words "q" and "juggernaut": no "q..." keyword
    assert keyword_range("jugz9", elem_match=False) == {"keywords": {"$gte": "jugz9", "$lt": "jugz:"}}
    assert await ids(services.models, "jugger^naut") == []


async def test_filters_combine_with_words(services: Services) -> None:
    await seed(services.models)
    assert await ids(services.models, "juggernaut", ModelFilter(type="lora")) == ["anime_lora.safetensors"]
    assert await ids(services.models, "juggernaut", ModelFilter(is_nsfw=False, type="checkpoint")) == [
        "juggernautXL_v9.safetensors", "dreamshaperXL.safetensors"]
    assert await ids(services.models, "", ModelFilter(tags=("anime", "pony"))) == ["old_pony.safetensors"]
    assert await ids(services.models, "", ModelFilter(is_active=False)) == ["old_pony.safetensors"]
    assert await ids(services.models, "", ModelFilter(base_model="pony")) == ["old_pony.safetensors"]  # detected


async def test_without_words_models_come_by_name(services: Services) -> None:
    await seed(services.models)
    names = [m.name for m in (await services.models.search("  ", ALL, limit=100)).items]
    assert names == sorted(names)


async def test_ranked_pages_follow_each_other_and_refuse_another_querys_cursor(services: Services) -> None:
    await seed(services.models)
    whole = await ids(services.models, "juggernaut")
    seen: list[str] = []
    cursor = None
    while True:
        page = await services.models.search("juggernaut", ALL, limit=1, cursor=cursor)
        seen += [m.id for m in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == whole
    first = await services.models.search("juggernaut", ALL, limit=1)
    assert first.next_cursor is not None
    with pytest.raises(ValidationError):
        await services.models.search("anime", ALL, limit=1, cursor=first.next_cursor)


async def test_a_rename_rewrites_the_keywords_in_the_same_write(services: Services) -> None:
    await seed(services.models)
    await services.models.update("juggernaut.safetensors", DatabaseModelPatch(name="Colossus", tags=["bronze"]))
    assert "juggernaut.safetensors" in await ids(services.models, "juggernaut")  # still in its id
    assert await ids(services.models, "colossus bronze") == ["juggernaut.safetensors"]
    await services.models.set_active("juggernaut.safetensors", False)  # not a text field: keywords untouched
    assert await ids(services.models, "colossus") == ["juggernaut.safetensors"]


async def test_an_upserted_model_is_searchable(services: Services) -> None:
    await services.models.repo.upsert(model("civitai_1", "Synced Model", tags=["landscape"]))
    assert await ids(services.models, "landsc") == ["civitai_1"]


async def test_the_migration_gives_models_stored_before_search_their_keywords(services: Services) -> None:
    stored = services.models.repo.to_document(model("legacy.safetensors", "Legacy Model"))
    del stored["keywords"]
    await services.database.collection("database_models").insert_one(stored)
    assert await ids(services.models, "legacy") == []
    assert await backfill_keywords(services.database, dry_run=True, report=print) == 1
    assert await backfill_keywords(services.database, dry_run=False, report=print) == 1
    assert await ids(services.models, "legacy") == ["legacy.safetensors"]
    assert await backfill_keywords(services.database, dry_run=False, report=print) == 0


async def test_parallel_renames_leave_keywords_matching_the_stored_name(services: Services) -> None:
    if services.database.backend == "memory":
        pytest.skip("memory:// (mongomock) never runs two calls at once: races need the embedded server")
    await services.models.create(model("m.safetensors", "Start"))
    names = [f"Name{i}" for i in range(12)]

    async def rename(name: str) -> None:
        await services.models.update("m.safetensors", DatabaseModelPatch(name=name))

    async with anyio.create_task_group() as group:
        for name in names:
            group.start_soon(rename, name)
    stored = await services.models.get("m.safetensors")
    raw = await services.database.collection("database_models").find_one({"id": "m.safetensors"})
    assert raw is not None and stored.name.lower() in raw["keywords"]
    assert [n for n in names if n.lower() in raw["keywords"]] == [stored.name]


async def test_parallel_changes_of_different_fields_keep_each_others_words(services: Services) -> None:
    if services.database.backend == "memory":
        pytest.skip("memory:// (mongomock) never runs two calls at once: races need the embedded server")
    for i in range(6):
        await services.models.create(model(f"m{i}", "Start"))

    async def change(model_id: str, patch: DatabaseModelPatch) -> None:
        await services.models.update(model_id, patch)

    async with anyio.create_task_group() as group:
        for i in range(6):
            group.start_soon(change, f"m{i}", DatabaseModelPatch(name=f"Renamed{i}"))
            group.start_soon(change, f"m{i}", DatabaseModelPatch(tags=[f"tagged{i}"]))
    for i in range(6):
        assert await ids(services.models, f"renamed{i} tagged{i}") == [f"m{i}"]


async def test_a_word_between_two_keywords_is_no_match(services: Services) -> None:
    # On an array, a bare range lets "aardvark" meet $lt and "zebra" meet $gte: each word is matched on one keyword.
    await services.models.create(model("az", "Aardvark Zebra"))
    assert await ids(services.models, "moose") == []
    assert await ids(services.models, "zeb") == ["az"]


async def test_the_search_query_reads_the_keywords_index(services: Services) -> None:
    if services.database.backend == "memory":
        pytest.skip("memory:// (mongomock) has no query planner")
    await seed(services.models)
    query = keyword_range("jugg", elem_match=services.database.backend != "embedded")
    explained = await services.database.db.command("explain", {"find": "database_models", "filter": query},
                                                    verbosity="queryPlanner")
    plan = json.dumps(explained["queryPlanner"]["winningPlan"])
    assert "IXSCAN" in plan and "keywords_1" in plan and "COLLSCAN" not in plan
