"""Keys of free-form mappings (generation params, job data, CivitAI metadata): no NUL (BSON refuses it), no
leading ``$`` and no ``.`` (operators and paths), nested mappings too; a clear error names the key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pydantic
import pytest

from mcp_storyboard.models.clips import GeneratedMedia
from mcp_storyboard.models.facefusion import FaceFusionJob
from tests.schemas import model_classes, resolve

BAD_KEYS = {"a\x00b": "contains a NUL character", "$set": "starts with '$'", "a.b": "contains '.'"}


def free_form_fields() -> Iterator[tuple[type[pydantic.BaseModel], str, bool]]:
    """``(model, field, is a list of mappings)`` for every field holding a mapping with arbitrary keys."""
    for model in model_classes():
        schema = model.model_json_schema()
        for field, prop in schema.get("properties", {}).items():
            for branch in [resolve(prop, schema), *prop.get("anyOf", [])]:
                listed = branch.get("type") == "array" and isinstance(branch.get("items"), dict)
                inner = resolve(branch["items"], schema) if listed else branch
                if inner.get("type") == "object" and "properties" not in inner and "propertyNames" not in inner:
                    yield model, field, listed
                    break


FREE_FORM = list(free_form_fields())


def test_the_free_form_fields_are_found() -> None:
    found = {f"{m.__name__}.{f}" for m, f, _ in FREE_FORM}
    assert {"GeneratedMedia.params", "FaceFusionJob.input_data", "FaceFusionJob.output_data",
            "GenerationBatch.prompt_data", "CivitAIModel.model_versions", "ComfyUIServer.capabilities"} <= found


@pytest.mark.parametrize(("model", "field", "listed"), FREE_FORM, ids=[f"{m.__name__}.{f}" for m, f, _ in FREE_FORM])
@pytest.mark.parametrize("key", BAD_KEYS)
def test_every_free_form_mapping_refuses_unsafe_keys(
    model: type[pydantic.BaseModel], field: str, listed: bool, key: str
) -> None:
    mapping: dict[str, Any] = {"fine": 1, key: 1}
    with pytest.raises(pydantic.ValidationError) as refused:
        model.model_validate({field: [mapping] if listed else mapping})
    errors = [e for e in refused.value.errors() if e["loc"][:1] == (field,) and e["type"] == "mapping_key"]
    assert errors, refused.value.errors()
    assert repr(key) in errors[0]["msg"] or repr(f"[0].{key}") in errors[0]["msg"]
    assert BAD_KEYS[key] in errors[0]["msg"]


def test_nested_keys_are_checked_and_named_by_their_path() -> None:
    with pytest.raises(pydantic.ValidationError, match=r"key 'outer\.list\[1\]\.\$where' starts with '\$'"):
        FaceFusionJob.model_validate({"project_id": "p", "job_type": "swap",
                                      "input_data": {"outer": {"list": [{"ok": 1}, {"$where": "1"}]}}})


def test_safe_keys_pass_unchanged() -> None:
    entry = GeneratedMedia(url="https://x.test/a.png", params={"seed": 1, "cfg_scale": 7.5, "sampler name": "euler"})
    assert entry.params == {"seed": 1, "cfg_scale": 7.5, "sampler name": "euler"}


def test_a_legacy_entry_keeps_only_the_parameters_a_document_can_hold() -> None:
    entry = GeneratedMedia.model_validate(
        {"url": "/uploads/a.png", "generation_params": {"seed": 3, "lora.weight": 0.5, "$x": 1, "nested": {"a": 1}}}
    )
    assert entry.params == {"seed": 3}
