"""Contract suite for user accounts, run unchanged on every backend."""

from __future__ import annotations

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import DuplicateKeyConflict, NotFoundError
from mcp_storyboard.models.users import User, UserPatch
from mcp_storyboard.repositories.users import UserRepository

HASH = "$2b$12$abcdefghijklmnopqrstuu5W7yq8ZqJ0ZxNqYgP4x6R0xgK1s2M3e"


def user(username: str, email: str | None = None, **fields: object) -> User:
    return User.model_validate({"username": username, "email": email or f"{username}@example.com", "hashed_password": HASH, **fields})


async def test_users_round_trip_and_are_found_by_any_case_of_username_or_email(db: Database) -> None:
    repo = UserRepository(db)
    alice = await repo.insert(user(" Alice ", "Alice@Example.COM", is_admin=True))
    assert (alice.username, alice.email) == ("alice", "alice@example.com")
    assert await repo.get(alice.id) == alice
    assert await repo.find_by_username("ALICE ") == alice
    assert await repo.find_by_email(" alice@EXAMPLE.com") == alice
    assert await repo.find_by_username("bob") is None and await repo.find_by_email("bob@example.com") is None
    disabled = await repo.apply_patch(alice.id, UserPatch(is_active=False))
    assert disabled.is_active is False and disabled.hashed_password == HASH
    assert await repo.delete(alice.id) is True
    with pytest.raises(NotFoundError, match="user"):
        await repo.get(alice.id)


@pytest.mark.parametrize(("username", "email", "field"), [("ALICE", "other@example.com", "username"), ("other", "ALICE@example.com", "email")])
async def test_a_taken_username_or_email_is_a_conflict_naming_the_field(db: Database, username: str, email: str, field: str) -> None:
    repo = UserRepository(db)
    await repo.insert(user("alice"))
    with pytest.raises(DuplicateKeyConflict) as caught:
        await repo.insert(user(username, email))
    assert caught.value.field == field
    assert f"users.{field}" in str(caught.value) and caught.value.hint == f"choose another {field}"
    assert await repo.count() == 1


async def test_renaming_onto_a_taken_username_or_email_is_refused_and_changes_nothing(db: Database) -> None:
    repo = UserRepository(db)
    await repo.insert(user("alice"))
    bob = await repo.insert(user("bob"))
    with pytest.raises(DuplicateKeyConflict) as caught:
        await repo.apply_patch(bob.id, UserPatch(username="Alice"))
    assert caught.value.field == "username"
    with pytest.raises(DuplicateKeyConflict) as caught:
        await repo.apply_patch(bob.id, UserPatch(email="alice@example.com"))
    assert caught.value.field == "email"
    assert await repo.get(bob.id) == bob


async def test_concurrent_sign_ups_for_one_username_let_exactly_one_through(db: Database) -> None:
    repo = UserRepository(db)
    outcomes: list[str] = []

    async def sign_up(i: int) -> None:
        try:
            await repo.insert(user("carol", f"carol{i}@example.com"))
            outcomes.append("ok")
        except DuplicateKeyConflict as exc:
            outcomes.append(exc.field or "")

    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(sign_up, i)
    assert sorted(outcomes) == ["ok"] + ["username"] * 4


async def test_users_page_by_username_and_admins_are_counted(db: Database) -> None:
    repo = UserRepository(db)
    for name in ["dave", "bob", "erin", "alice", "carol"]:
        await repo.insert(user(name, is_admin=name in {"alice", "bob"}, is_active=name != "bob"))
    first = await repo.page(limit=2)
    second = await repo.page(limit=2, cursor=first.next_cursor)
    third = await repo.page(limit=2, cursor=second.next_cursor)
    assert [u.username for u in first.items + second.items + third.items] == ["alice", "bob", "carol", "dave", "erin"]
    assert third.next_cursor is None
    assert await repo.count_active_admins() == 1
