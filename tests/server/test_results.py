"""What the guard hands the SDK: a finished result whose text copy is the structured content as compact JSON, built
from arguments validated once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata

from .conftest import example_server

pytestmark = pytest.mark.anyio


async def test_the_text_copy_is_the_structured_content_as_compact_json(connect: Callable[..., Client]) -> None:
    async with connect(example_server()) as client:
        result = await client.call_tool("list_many_things", {"count": 3})
    text = result.content[0].text  # type: ignore[union-attr]
    assert json.loads(text) == result.structured_content
    assert text == json.dumps(result.structured_content, separators=(",", ":"), ensure_ascii=False)


async def test_the_arguments_of_a_call_are_validated_once(
    connect: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    validated: list[dict[str, Any]] = []
    original = FuncMetadata.validate_arguments

    def counting(self: FuncMetadata, arguments: dict[str, Any]) -> dict[str, Any]:
        validated.append(arguments)
        return original(self, arguments)

    monkeypatch.setattr(FuncMetadata, "validate_arguments", counting)
    async with connect(example_server()) as client:
        result = await client.call_tool("get_thing", {"thing_id": "t1"})
        assert not result.is_error
        assert validated == [{"thing_id": "t1"}]
        refused = await client.call_tool("get_thing", {"thing_id": {"$ne": None}})
    # A refusal is validated again only to word it: the field and what it should be.
    assert refused.is_error
    assert refused.content[0].text == "[invalid-argument] thing_id: Input should be a valid string"  # type: ignore[union-attr]
