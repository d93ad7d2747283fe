"""Contract suite for the CivitAI catalog (integer ids), run unchanged on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import DuplicateKeyConflict, NotFoundError
from mcp_storyboard.models.catalog import CivitAIModel, CivitAIModelPatch
from mcp_storyboard.repositories.civitai_models import CivitAIModelRepository


def entry(model_id: int, name: str, **fields: object) -> CivitAIModel:
    return CivitAIModel.model_validate({"id": model_id, "name": name, "type": "Checkpoint", **fields})


async def test_entries_round_trip_by_integer_id_and_refuse_a_duplicate_id(db: Database) -> None:
    repo = CivitAIModelRepository(db)
    raw = {"id": 4201, "name": "Realistic Vision", "type": "Checkpoint", "stats": {"downloadCount": 10},
           "modelVersions": [{"id": 1, "baseModel": "SD 1.5"}], "creator": {"username": "sg"}}  # fmt: skip
    stored = await repo.insert(CivitAIModel.model_validate(raw))
    assert await repo.get(4201) == stored
    assert (await repo.get(4201)).model_versions == [{"id": 1, "baseModel": "SD 1.5"}]
    assert await repo.find("4201") is None  # type: ignore[arg-type]  # the key is an integer
    assert (await repo.apply_patch(4201, CivitAIModelPatch(nsfw=True))).nsfw is True
    with pytest.raises(DuplicateKeyConflict) as caught:
        await repo.insert(entry(4201, "Copy"))
    assert (caught.value.field, caught.value.value) == ("id", "4201")
    assert await repo.delete(4201) is True
    with pytest.raises(NotFoundError, match="CivitAI model '4201'"):
        await repo.get(4201)


async def test_browsing_filters_type_and_nsfw_in_index_order_across_pages(db: Database) -> None:
    repo = CivitAIModelRepository(db)
    for model_id, kind, nsfw in [(5, "LORA", False), (3, "Checkpoint", False), (9, "LORA", True), (1, "LORA", False),
                                 (7, "Checkpoint", True), (2, "Checkpoint", False)]:  # fmt: skip
        await repo.insert(entry(model_id, f"m{model_id}", type=kind, nsfw=nsfw))
    first = await repo.page(limit=2)
    second = await repo.page(limit=2, cursor=first.next_cursor)
    assert [m.id for m in first.items + second.items] == [2, 3, 1, 5]
    assert second.next_cursor is None
    assert [m.id for m in (await repo.page(nsfw=None)).items] == [2, 3, 7, 1, 5, 9]
    assert [m.id for m in (await repo.page(model_type="LORA", nsfw=True)).items] == [9]
    assert [m.id for m in (await repo.page(model_type="LORA")).items] == [1, 5]


async def test_name_search_is_case_insensitive_plain_text(db: Database) -> None:
    repo = CivitAIModelRepository(db)
    await repo.insert(entry(1, "Detail Tweaker (LoRA) v1.0"))
    await repo.insert(entry(2, "detail slider"))
    await repo.insert(entry(3, "DreamShaper"))
    assert [m.id for m in (await repo.page(name_contains="DETAIL")).items] == [1, 2]
    assert [m.id for m in (await repo.page(name_contains="(lora) v1.")).items] == [1]
    assert (await repo.page(name_contains="d.*r")).items == []
    assert (await repo.page(name_contains="[")).items == []


async def test_upsert_refreshes_an_entry_and_keeps_created_at(db: Database) -> None:
    repo = CivitAIModelRepository(db)
    first = await repo.upsert(entry(77, "Juggernaut", stats={"downloadCount": 1}))
    second = await repo.upsert(entry(77, "Juggernaut XL", stats={"downloadCount": 2}, created_at=first.created_at + timedelta(days=1)))
    assert (second.name, second.stats, second.created_at) == ("Juggernaut XL", {"downloadCount": 2}, first.created_at)
    assert await repo.count() == 1
