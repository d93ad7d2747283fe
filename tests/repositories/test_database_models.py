"""Contract suite for catalog models (``database_models``), run unchanged on every backend."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import DuplicateKeyConflict, NotFoundError
from mcp_storyboard.models.catalog import DatabaseModel, DatabaseModelPatch
from mcp_storyboard.repositories.database_models import DatabaseModelRepository


def model(model_id: str, **fields: object) -> DatabaseModel:
    return DatabaseModel.model_validate({"id": model_id, "name": model_id.rsplit("/", 1)[-1], "type": "checkpoint", "path": model_id, **fields})


async def test_model_crud_round_trips_a_file_name_id(db: Database) -> None:
    repo = DatabaseModelRepository(db)
    stored = await repo.insert(model("sdxl/juggernaut_v9.safetensors", base_model="sdxl 1.0", tags=["photo"], civitai_id=133005))
    assert stored.base_model == "SDXL"
    assert await repo.get("sdxl/juggernaut_v9.safetensors") == stored
    patched = await repo.apply_patch(stored.id, DatabaseModelPatch(trigger_words="jugg", is_nsfw=True))
    assert (patched.trigger_words, patched.is_nsfw) == ("jugg", True)
    with pytest.raises(DuplicateKeyConflict) as caught:
        await repo.insert(model(stored.id))
    assert caught.value.field == "id" and "juggernaut" in str(caught.value)
    assert await repo.delete(stored.id) is True
    with pytest.raises(NotFoundError, match="model 'sdxl/juggernaut_v9.safetensors' does not exist"):
        await repo.set_active(stored.id, False)


async def test_active_models_page_by_type_then_name(db: Database) -> None:
    repo = DatabaseModelRepository(db)
    for name, kind, active in [("b.safetensors", "lora", True), ("a.safetensors", "lora", True), ("z.ckpt", "checkpoint", True),
                               ("c.safetensors", "lora", False), ("y.ckpt", "checkpoint", True), ("e.pt", "embedding", True)]:
        await repo.insert(model(name, type=kind, is_active=active))
    first = await repo.page_by_type(limit=2)
    second = await repo.page_by_type(limit=2, cursor=first.next_cursor)
    third = await repo.page_by_type(limit=2, cursor=second.next_cursor)
    ids = [m.id for m in first.items + second.items + third.items]
    assert ids == ["y.ckpt", "z.ckpt", "e.pt", "a.safetensors", "b.safetensors"]
    assert third.next_cursor is None
    assert [m.id for m in (await repo.page_by_type("lora")).items] == ["a.safetensors", "b.safetensors"]
    assert [m.id for m in (await repo.page_by_type("lora", active=False)).items] == ["c.safetensors"]
    assert len((await repo.page_by_type(active=None)).items) == 6
    await repo.set_active("c.safetensors", True)
    assert [m.id for m in (await repo.page_by_type("lora")).items] == ["a.safetensors", "b.safetensors", "c.safetensors"]


async def test_models_by_base_model_accept_any_spelling_of_the_family(db: Database) -> None:
    repo = DatabaseModelRepository(db)
    await repo.insert(model("pony.safetensors", base_model="Pony Diffusion V6 XL"))
    await repo.insert(model("sd15.ckpt", base_model="SD 1.5"))
    await repo.insert(model("old15.ckpt", base_model="sd15", is_active=False))
    await repo.insert(model("detail.safetensors", type="lora", base_model="SD1.5"))
    page = await repo.page_by_base_model("sdv1.5", limit=1)
    rest = await repo.page_by_base_model("sdv1.5", limit=1, cursor=page.next_cursor)
    assert [m.id for m in page.items + rest.items] == ["sd15.ckpt", "detail.safetensors"]
    assert [m.id for m in (await repo.page_by_base_model("SD 1.5", active=False)).items] == ["old15.ckpt"]
    assert [m.id for m in (await repo.page_by_base_model("ponydiffusionxl")).items] == ["pony.safetensors"]


async def test_upsert_inserts_then_refreshes_every_field_but_created_at(db: Database) -> None:
    repo = DatabaseModelRepository(db)
    original = model("flux1-dev.safetensors", base_model="flux dev", description="v1")
    inserted = await repo.upsert(original)
    assert inserted == await repo.get(original.id)
    later = original.created_at + timedelta(days=3)
    refreshed = await repo.upsert(model(original.id, base_model="flux dev", description="v2", tags=["new"], created_at=later))
    assert (refreshed.description, refreshed.tags, refreshed.base_model) == ("v2", ["new"], "Flux.1 D")
    assert refreshed.created_at == original.created_at
    assert refreshed.updated_at >= inserted.updated_at
    assert await repo.count() == 1


async def test_concurrent_first_upserts_of_one_id_leave_one_document(db: Database) -> None:
    repo = DatabaseModelRepository(db)
    for round_ in range(5):
        async with anyio.create_task_group() as tg:
            for i in range(6):
                tg.start_soon(repo.upsert, model(f"race{round_}.safetensors", description=f"v{i}"))
    assert await repo.count() == 5
