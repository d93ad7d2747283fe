"""User accounts: bcrypt round trips, bcrypt's 72-byte limit (refused, never cut short), the password policy, checks
that cost the same for unknown users, the last-admin rule, and parallel sign-ups of one username."""

from __future__ import annotations

from typing import Any

import anyio
import bcrypt
import pytest

from mcp_storyboard.errors import DuplicateKeyConflict, InvalidStateError, ValidationError
from mcp_storyboard.models.users import User
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.users import MIN_ROUNDS, PasswordHasher, UserService, UserUpdate
from mcp_storyboard.services.users import passwords as passwords_module

PASSWORD = "correct horse battery staple"


@pytest.fixture
def users(services: Services) -> UserService:
    """The user service with bcrypt at its minimum cost (4), so the tests do not spend seconds hashing."""
    services.users.hasher = PasswordHasher(4, weak_for_tests=True)
    return services.users


async def test_a_password_round_trips_through_bcrypt_and_only_its_hash_is_stored(users: UserService) -> None:
    user = await users.create("Alice", "Alice@Example.com", PASSWORD)
    stored = await users.repo.collection.find_one({"id": user.id}, {"_id": 0})
    assert stored is not None and PASSWORD not in str(stored)
    assert stored["hashed_password"].startswith("$2b$04$")
    assert bcrypt.checkpw(PASSWORD.encode(), stored["hashed_password"].encode())
    assert (await users.verify_password("ALICE", PASSWORD)) == user
    assert await users.verify_password("alice", PASSWORD + "!") is None
    assert await users.verify_password("nobody", PASSWORD) is None


async def test_the_default_cost_is_12_and_only_a_test_may_ask_for_less(services: Services) -> None:
    assert services.users.hasher.rounds == MIN_ROUNDS == 12
    assert (await PasswordHasher().hash(PASSWORD)).startswith("$2b$12$")
    with pytest.raises(ValueError, match="at least 12"):
        PasswordHasher(11)
    with pytest.raises(ValueError, match="4-31"):
        PasswordHasher(3, weak_for_tests=True)


async def test_a_73_byte_password_is_refused_naming_the_field_and_the_limit_and_nothing_is_written(
    users: UserService,
) -> None:
    with pytest.raises(ValidationError) as caught:
        await users.create("bob", "bob@example.com", "a" * 73)
    assert caught.value.field == "password"
    assert "73 bytes" in str(caught.value) and "at most 72 bytes" in str(caught.value)
    assert await users.repo.count() == 0
    seventy_two = "a" * 72
    user = await users.create("bob", "bob@example.com", seventy_two)
    assert await users.verify_password("bob", seventy_two) == user
    # Nothing past byte 72 is ignored: a longer password sharing the first 72 bytes does not match.
    assert await users.verify_password("bob", seventy_two + "b") is None


@pytest.mark.parametrize(("password", "size"), [("é" * 37, 74), ("🎬" * 19, 76), ("ab" + "日本語" * 24, 218)])
async def test_multibyte_passwords_are_measured_in_utf8_bytes(users: UserService, password: str, size: int) -> None:
    with pytest.raises(ValidationError) as caught:
        await users.create("carol", "carol@example.com", password)
    assert caught.value.field == "password" and f"is {size} bytes long in UTF-8" in str(caught.value)
    assert "a character outside ASCII takes 2 to 4" in str(caught.value)
    assert await users.repo.count() == 0


async def test_a_multibyte_password_of_72_bytes_round_trips_in_either_unicode_form(users: UserService) -> None:
    composed = "é" * 36  # 72 bytes; decomposed, each é is two code points (e + U+0301) and 3 bytes
    await users.create("dora", "dora@example.com", composed)
    decomposed = "e\u0301" * 36
    assert len(decomposed.encode()) == 108
    assert await users.verify_password("dora", decomposed) is not None  # NFKC makes them one password


async def test_a_short_password_or_a_nul_is_refused(users: UserService) -> None:
    for password, message in (("short", "needs at least 12"), ("x" * 11, "is 11 characters"), ("a\x00" * 8, "NUL")):
        with pytest.raises(ValidationError, match=message) as caught:
            await users.create("erin", "erin@example.com", password)
        assert caught.value.field == "password"
    assert await users.repo.count() == 0


async def test_a_check_costs_one_bcrypt_run_at_the_same_cost_whether_the_user_exists_or_not(
    users: UserService, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[bytes] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        checked.append(hashed[:7])
        return real(password, hashed)

    monkeypatch.setattr(passwords_module.bcrypt, "checkpw", spy)
    await users.create("frank", "frank@example.com", PASSWORD)
    disabled = await users.create("gina", "gina@example.com", PASSWORD)
    await users.set_active(disabled.id, False)
    for username, password in (("frank", PASSWORD), ("frank", "wrong password!"), ("nobody", PASSWORD),
                               ("gina", PASSWORD), ("frank", "x" * 80)):
        checked.clear()
        outcome = await users.verify_password(username, password)
        assert checked == [b"$2b$04$"], (username, checked)
        assert (outcome is not None) == (username == "frank" and password == PASSWORD)


async def test_a_hash_of_fewer_rounds_is_replaced_on_sign_in(users: UserService) -> None:
    user = await users.create("hank", "hank@example.com", PASSWORD)
    users.hasher = PasswordHasher(5, weak_for_tests=True)
    await users.verify_password("hank", PASSWORD)
    assert (await users.get(user.id)).hashed_password.startswith("$2b$05$")
    assert await users.verify_password("hank", PASSWORD) is not None


async def test_an_account_without_a_password_signs_in_with_nothing(users: UserService) -> None:
    user = await users.create("ivy", "ivy@example.com")
    assert user.hashed_password.startswith("$2b$04$")
    assert await users.verify_password("ivy", "") is None and await users.verify_password("ivy", PASSWORD) is None


async def test_disable_enable_set_password_and_admin_rights(users: UserService) -> None:
    admin = await users.create("root", "root@example.com", PASSWORD, is_admin=True)
    user = await users.create("joe", "joe@example.com", PASSWORD)
    assert await users.set_active(user.id, False) == (await users.get(user.id), True)
    assert await users.verify_password("joe", PASSWORD) is None
    assert (await users.set_active(user.id, False))[1] is False  # already disabled: nothing to do
    assert (await users.set_active(user.id, True))[0].is_active
    await users.set_password(user.id, "a brand new passphrase")
    assert await users.verify_password("joe", PASSWORD) is None
    assert await users.verify_password("joe", "a brand new passphrase") is not None
    promoted, changed = await users.set_admin(user.id, True)
    assert promoted.is_admin and changed
    assert (await users.set_admin(admin.id, False))[0].is_admin is False  # another admin remains


async def test_the_last_enabled_admin_cannot_be_disabled_or_demoted_and_nothing_changes(users: UserService) -> None:
    admin = await users.create("root", "root@example.com", PASSWORD, is_admin=True)
    await users.create("viewer", "viewer@example.com", PASSWORD)
    for change in (UserUpdate(is_active=False), UserUpdate(is_admin=False), UserUpdate(email="x@example.com",
                                                                                       is_admin=False)):
        with pytest.raises(InvalidStateError, match="last enabled admin"):
            await users.update(admin.id, change)
    assert await users.get(admin.id) == admin


async def test_an_update_that_sets_nothing_or_a_taken_name_is_refused(users: UserService) -> None:
    await users.create("kim", "kim@example.com", PASSWORD)
    lee = await users.create("lee", "lee@example.com", PASSWORD)
    with pytest.raises(ValidationError, match="patch: sets no field"):
        await users.update(lee.id, UserUpdate())
    with pytest.raises(DuplicateKeyConflict) as caught:
        await users.update(lee.id, UserUpdate(username="KIM"))
    assert caught.value.field == "username"
    assert await users.get(lee.id) == lee


async def test_parallel_creates_of_one_username_let_exactly_one_through(users: UserService) -> None:
    outcomes: list[Any] = []

    async def sign_up(i: int) -> None:
        try:
            outcomes.append(await users.create("Mia", f"mia{i}@example.com", PASSWORD))
        except DuplicateKeyConflict as exc:
            outcomes.append(exc.field)

    async with anyio.create_task_group() as group:
        for i in range(6):
            group.start_soon(sign_up, i)
    winners = [o for o in outcomes if isinstance(o, User)]
    assert len(winners) == 1 and sorted(o for o in outcomes if not isinstance(o, User)) == ["username"] * 5
    assert [u.id for u in (await users.list_page()).items] == [winners[0].id]


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(users: UserService) -> None:
    first = await users.create("ann", "ann@example.com", PASSWORD, is_admin=True)
    second = await users.create("ben", "ben@example.com", PASSWORD, is_admin=True)
    refused: list[str] = []

    async def demote(user_id: str) -> None:
        try:
            await users.set_admin(user_id, False)
        except InvalidStateError as exc:
            refused.append(str(exc))

    async with anyio.create_task_group() as group:
        group.start_soon(demote, first.id)
        group.start_soon(demote, second.id)
    assert await users.repo.count_active_admins() >= 1
    assert refused, "at least one demotion must be refused"
