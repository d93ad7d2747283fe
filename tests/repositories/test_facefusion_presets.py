"""Contract suite for FaceFusion presets, run unchanged on every backend."""

from __future__ import annotations

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import DuplicateKeyConflict, NotFoundError
from mcp_storyboard.models.facefusion import FaceFusionPreset, FaceFusionPresetPatch
from mcp_storyboard.repositories.facefusion_presets import FaceFusionPresetRepository

ALICE, BOB = "alice-id", "bob-id"


def preset(name: str, **fields: object) -> FaceFusionPreset:
    return FaceFusionPreset.model_validate({"name": name, "operation_type": "enhance", **fields})


async def test_preset_crud_round_trips_normalised_parameters(db: Database) -> None:
    repo = FaceFusionPresetRepository(db)
    stored = await repo.insert(preset("Soft glow", parameters={"face_enhancer_blend": 0.4}, user_id=ALICE))
    assert stored.parameters == {"enhancement_model": "gfpgan_1.4", "face_enhancer_blend": 0.4}
    assert await repo.get(stored.id) == stored
    patched = await repo.apply_patch(stored.id, FaceFusionPresetPatch(is_public=True, description="for portraits"))
    assert (patched.is_public, patched.description) == (True, "for portraits")
    with pytest.raises(DuplicateKeyConflict) as caught:
        await repo.insert(preset("Other", id=stored.id))
    assert caught.value.field == "id"
    assert await repo.delete(stored.id) is True
    with pytest.raises(NotFoundError, match="facefusion preset"):
        await repo.increment_use(stored.id)


async def test_a_user_sees_public_presets_and_their_own_by_name_across_pages(db: Database) -> None:
    repo = FaceFusionPresetRepository(db)
    await repo.insert(preset("a public", is_public=True, user_id=BOB))
    await repo.insert(preset("b alice private", user_id=ALICE))
    await repo.insert(preset("c bob private", user_id=BOB))
    await repo.insert(preset("d local private"))
    await repo.insert(preset("e public age", operation_type="age_adjust", parameters={"target_age": 40}, is_public=True))
    await repo.insert(preset("f alice public", is_public=True, user_id=ALICE))
    first = await repo.page_visible(ALICE, limit=2)
    second = await repo.page_visible(ALICE, limit=2, cursor=first.next_cursor)
    assert [p.name for p in first.items + second.items] == ["a public", "b alice private", "e public age", "f alice public"]
    assert second.next_cursor is None
    enhance = await repo.page_visible(ALICE, operation_type="enhance")
    assert [p.name for p in enhance.items] == ["a public", "b alice private", "f alice public"]
    local = await repo.page_visible(None, operation_type="enhance")
    assert [p.name for p in local.items] == ["a public", "d local private", "f alice public"]
    assert await repo.delete_for_user(BOB) == 2


async def test_find_by_name_prefers_the_users_own_preset_then_a_public_one(db: Database) -> None:
    repo = FaceFusionPresetRepository(db)
    public = await repo.insert(preset("Soft glow", is_public=True, user_id=BOB))
    mine = await repo.insert(preset("Soft glow", user_id=ALICE))
    await repo.insert(preset("Secret", user_id=BOB))
    assert (await repo.find_by_name("  Soft glow ", ALICE)) == mine
    found = await repo.find_by_name("Soft glow", "carol-id")
    assert found is not None and found.id == public.id
    assert await repo.find_by_name("Secret", ALICE) is None
    assert await repo.find_by_name("soft glow", ALICE) is None


async def test_use_counts_increment_atomically_under_concurrency(db: Database) -> None:
    repo = FaceFusionPresetRepository(db)
    stored = await repo.insert(preset("Busy"))
    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(repo.increment_use, stored.id)
    assert (await repo.get(stored.id)).use_count == 10
