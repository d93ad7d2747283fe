"""Contract suite for inference configurations (two-part key, no id), run unchanged on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import DuplicateKeyConflict, NotFoundError
from mcp_storyboard.models.catalog import InferenceConfiguration, InferenceConfigurationPatch, InferenceParameters
from mcp_storyboard.repositories.inference_configurations import InferenceConfigurationRepository

QUALITY = InferenceParameters(steps=30, cfg_scale=7.0, sampler_name="dpmpp_2m", scheduler="karras")
SPEED = InferenceParameters(steps=8, cfg_scale=2.0, sampler_name="euler", scheduler="normal", denoise=0.9)


def config(model_id: str, preset_type: str, parameters: InferenceParameters = QUALITY, **fields: object) -> InferenceConfiguration:
    return InferenceConfiguration.model_validate({"model_id": model_id, "preset_type": preset_type, "parameters": parameters, **fields})


async def test_configurations_are_found_by_tuple_or_string_key_and_crud_round_trips(db: Database) -> None:
    repo = InferenceConfigurationRepository(db)
    stored = await repo.insert(config("sd:xl/base.safetensors", "quality", description="best"))
    assert await repo.get(("sd:xl/base.safetensors", "quality")) == stored
    assert await repo.get(stored.key) == stored
    assert await repo.exists(stored.key) and not await repo.exists(("sd:xl/base.safetensors", "speed"))
    patched = await repo.apply_patch(stored.key, InferenceConfigurationPatch(parameters=SPEED))
    assert patched.parameters == SPEED and patched.created_at == stored.created_at
    assert "_id" not in patched.model_dump()
    assert await repo.delete(stored.key) is True
    assert await repo.find(stored.key) is None
    with pytest.raises(NotFoundError, match="inference configuration 'sd:xl/base.safetensors:quality' does not exist"):
        await repo.get(stored.key)
    with pytest.raises(NotFoundError, match="'m:speed'"):
        await repo.apply_patch(("m", "speed"), InferenceConfigurationPatch(description="x"))


async def test_a_second_preset_of_the_same_type_is_a_conflict_naming_both_key_fields(db: Database) -> None:
    repo = InferenceConfigurationRepository(db)
    await repo.insert(config("m", "quality"))
    await repo.insert(config("m", "speed", SPEED))
    with pytest.raises(DuplicateKeyConflict) as caught:
        await repo.insert(config("m", "quality", SPEED))
    assert caught.value.field == "model_id,preset_type"
    assert "inference_configurations.model_id,preset_type" in str(caught.value)


async def test_a_models_configurations_list_in_key_order_and_delete_together(db: Database) -> None:
    repo = InferenceConfigurationRepository(db)
    await repo.insert(config("m", "speed", SPEED))
    await repo.insert(config("m", "quality"))
    await repo.insert(config("other", "quality"))
    assert [c.preset_type for c in await repo.list_for_model("m")] == ["quality", "speed"]
    got = await repo.get_many([("other", "quality"), "m:speed", "missing:quality", ("m", "speed")])
    assert [c.key for c in got] == ["m:speed", "other:quality"]
    assert await repo.get_many([]) == []
    assert await repo.delete_for_model("m") == 2
    assert await repo.count() == 1


async def test_upsert_replaces_by_key_and_keeps_created_at(db: Database) -> None:
    repo = InferenceConfigurationRepository(db)
    first = await repo.upsert(config("m", "speed", SPEED))
    later = first.created_at + timedelta(hours=1)
    second = await repo.upsert(config("m", "speed", QUALITY, description="tuned", created_at=later))
    assert (second.parameters, second.description, second.created_at) == (QUALITY, "tuned", first.created_at)
    assert await repo.count() == 1
    assert (await repo.upsert(config("m", "quality"))).preset_type == "quality"
    assert await repo.count() == 2
