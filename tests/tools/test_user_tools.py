"""The users toolset through a real MCP client: accounts are created, listed, read, changed and disabled; bad input is
refused naming the field and writes nothing; no result ever carries a password hash or a token hash."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from mcp_storyboard.services.users import PasswordHasher
from tests.tools.conftest import ToolClient

PASSWORD = "correct horse battery staple"
HASH_MARKERS = ("$2b$", "hashed_password", "secret_hash")


@pytest.fixture
def users(tools: ToolClient) -> ToolClient:
    tools.services.users.hasher = PasswordHasher(4, weak_for_tests=True)
    return tools


def no_hashes(value: Any) -> None:
    text = json.dumps(value)
    assert not any(marker in text for marker in HASH_MARKERS), text


async def test_create_list_get_update_and_deactivate_a_user(users: ToolClient) -> None:
    root = await users.call("create_user", username="Root", email="Root@Example.com", password=PASSWORD, is_admin=True)
    assert root["changed"] == {"username": "root", "email": "root@example.com", "is_active": True, "is_admin": True,
                               "password": "set"}
    alice = await users.call("create_user", username="alice", email="alice@example.com")
    assert "password" not in alice["changed"]
    got = await users.call("get_user", user_id=alice["id"])
    assert {k: got[k] for k in ("username", "email", "is_active", "is_admin")} == {
        "username": "alice", "email": "alice@example.com", "is_active": True, "is_admin": False}
    first = await users.call("list_users", limit=1)
    rest = await users.call("list_users", limit=1, cursor=first["next_cursor"])
    assert [u["username"] for u in first["items"] + rest["items"]] == ["alice", "root"] and rest["next_cursor"] is None

    updated = await users.call("update_user", user_id=alice["id"], patch={"email": "ALICE@new.example", "password":
                                                                          "another long passphrase", "is_admin": True})
    assert updated["changed"] == {"email": "alice@new.example", "password": "set", "is_admin": True}
    assert await users.services.users.verify_password("alice", "another long passphrase") is not None

    off = await users.call("deactivate_user", user_id=alice["id"])
    assert off == {"id": alice["id"], "changed": {"is_active": False}}
    assert (await users.call("deactivate_user", user_id=alice["id"]))["changed"] == {"is_active": False}
    assert [u["username"] for u in (await users.call("list_users", active=False))["items"]] == ["alice"]
    for result in (root, alice, got, first, rest, updated, off):
        no_hashes(result)


async def test_no_tool_output_or_schema_names_a_hash(users: ToolClient) -> None:
    created = await users.call("create_user", username="bob", email="bob@example.com", password=PASSWORD)
    issued = await users.services.users.tokens.create(created["id"], "ci")
    results = [await users.client.call_tool(name, arguments) for name, arguments in (
        ("get_user", {"user_id": created["id"]}), ("list_users", {}), ("update_user", {"user_id": created["id"],
                                                                                         "patch": {"is_admin": True}}),
        ("deactivate_user", {"user_id": created["id"]}))]
    for result in results:
        text = json.dumps([block.model_dump() for block in result.content]) + json.dumps(result.structured_content)
        assert not any(marker in text for marker in HASH_MARKERS) and issued.token not in text, text
    listed = {t.name: t for t in (await users.client.list_tools()).tools}
    for name in ("list_users", "get_user", "create_user", "update_user", "deactivate_user"):
        schemas = json.dumps(listed[name].output_schema) + json.dumps(listed[name].input_schema)
        assert "hashed_password" not in schemas and "secret_hash" not in schemas, name


@pytest.mark.parametrize(
    ("arguments", "field", "words"),
    [
        ({"username": "x!", "email": "x@example.com"}, "username", "3-50 characters of a-z, 0-9"),
        ({"username": "ok-name", "email": "not-an-email"}, "email", "pattern"),
        ({"username": "ok-name", "email": "x@example.com", "password": "short"}, "password", "at least 12"),
        ({"username": "ok-name", "email": "x@example.com", "password": "a" * 73}, "password", "at most 72 bytes"),
        ({"username": "ok-name", "email": "x@example.com", "password": "é" * 37}, "password", "74 bytes"),
        ({"username": "ok-name", "email": "x@example.com", "is_admin": "yes"}, "is_admin", "bool"),
    ],
)
async def test_create_user_refuses_bad_input_naming_the_field(
    users: ToolClient, arguments: dict[str, Any], field: str, words: str
) -> None:
    text = await users.refused("create_user", **arguments)
    assert text.startswith(f"[invalid-argument] {field}"), text
    assert words in text, text


async def test_taken_names_empty_or_hash_patches_and_the_last_admin_are_refused(users: ToolClient) -> None:
    root = await users.call("create_user", username="root", email="root@example.com", is_admin=True)
    await users.call("create_user", username="carol", email="carol@example.com")
    text = await users.refused("create_user", username="CAROL", email="other@example.com")
    assert text.startswith("[duplicate] users.username 'carol' is already taken"), text
    text = await users.refused("update_user", user_id=root["id"], patch={"email": "Carol@example.com"})
    assert text.startswith("[duplicate] users.email"), text
    assert (await users.refused("update_user", user_id=root["id"], patch={})).startswith(
        "[invalid-argument] patch: sets no field")
    text = await users.refused("update_user", user_id=root["id"], patch={"hashed_password": "$2b$04$forged"})
    assert text.startswith("[invalid-argument] patch.hashed_password"), text
    text = await users.refused("update_user", user_id=root["id"], patch={"is_active": "no"})
    assert text.startswith("[invalid-argument] patch.is_active"), text
    text = await users.refused("update_user", user_id=root["id"], patch={"password": "a" * 73})
    assert text.startswith("[invalid-argument] password: is 73 bytes"), text
    for name, arguments in (("deactivate_user", {}), ("update_user", {"patch": {"is_admin": False}})):
        text = await users.refused(name, user_id=root["id"], **arguments)
        assert text.startswith("[invalid-state] user 'root' is the last enabled admin"), text
    text = await users.refused("get_user", user_id="missing")
    assert text.startswith("[not-found] user 'missing' does not exist"), text


async def test_parallel_create_user_calls_for_one_username_let_one_through(users: ToolClient) -> None:
    outcomes: list[str] = []

    async def create(i: int) -> None:
        result = await users.client.call_tool("create_user", {"username": "Zed", "email": f"zed{i}@example.com",
                                                              "password": PASSWORD})
        outcomes.append(result.content[0].text.split(" ", 1)[0] if result.is_error else "created")  # type: ignore[union-attr]

    async with anyio.create_task_group() as group:
        for i in range(5):
            group.start_soon(create, i)
    assert sorted(outcomes) == ["[duplicate]"] * 4 + ["created"]
    listed = await users.call("list_users")
    assert [u["username"] for u in listed["items"]] == ["zed"]
