"""The operation taxonomy: annotations per kind, overrides, toolset parsing."""

from __future__ import annotations

import pytest

from mcp_storyboard.errors import ConfigError
from mcp_storyboard.server.taxonomy import (
    DEFAULT_TOOLSETS,
    OPERATIONS,
    TOOLSETS,
    annotations_for,
    parse_toolsets,
)


@pytest.mark.parametrize(
    ("operation", "hints"),
    [
        ("read", (True, False, True, False)),
        ("create", (False, False, False, False)),
        ("update", (False, False, False, False)),
        ("delete", (False, True, True, False)),
        ("admin", (False, True, False, False)),
        ("external", (False, False, False, True)),
    ],
)
def test_each_operation_has_fixed_hints(operation: str, hints: tuple[bool, bool, bool, bool]) -> None:
    a = annotations_for(operation)  # type: ignore[arg-type]
    assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint) == hints


def test_every_operation_is_covered() -> None:
    assert OPERATIONS == ("read", "create", "update", "delete", "admin", "external")
    for operation in OPERATIONS:
        annotations_for(operation)


def test_a_spec_can_mark_an_overwriting_update_destructive_and_idempotent() -> None:
    a = annotations_for("update", idempotent=True, destructive=True)
    assert (a.destructive_hint, a.idempotent_hint) == (True, True)


def test_a_read_cannot_be_declared_destructive() -> None:
    with pytest.raises(ValueError, match="cannot be destructive"):
        annotations_for("read", destructive=True)


def test_the_default_toolsets_are_all_but_users() -> None:
    assert DEFAULT_TOOLSETS == frozenset(TOOLSETS) - {"users"}
    assert parse_toolsets(None) == DEFAULT_TOOLSETS
    assert parse_toolsets("default") == DEFAULT_TOOLSETS


def test_toolsets_parse_from_a_comma_list_or_all() -> None:
    assert parse_toolsets(" Storyboard, styles ,") == {"storyboard", "styles"}
    assert parse_toolsets("all") == frozenset(TOOLSETS)
    assert parse_toolsets(["users"]) == {"users"}


@pytest.mark.parametrize("value", ["storyboard,scenes", "", " , "])
def test_an_unknown_or_empty_toolset_list_is_a_config_error_naming_the_valid_ones(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_toolsets(value)
    assert "storyboard, characters, styles, facefusion, models, generation, users" in str(caught.value)
