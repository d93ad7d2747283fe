"""API tokens: shown once, stored as a SHA-256 of the secret; create → verify → revoke → refused; expiry; refused for
unknown, malformed and disabled owners; last use written at most once a minute, by one of many parallel checks."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import anyio
import pytest

from mcp_storyboard.errors import InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.models.common import utc_now
from mcp_storyboard.models.users import User
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.users import UserService
from mcp_storyboard.services.users.tokens import TOKEN_PATTERN


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(services: Services) -> Clock:
    clock = Clock()
    services.users.tokens.clock = clock
    return clock


@pytest.fixture
async def owner(services: Services) -> User:
    return await services.users.repo.insert(User(username="owner", email="owner@example.com", hashed_password="x"))


async def test_a_token_is_shown_once_and_stored_only_as_the_sha256_of_its_secret(services: Services, owner: User) -> None:
    issued = await services.users.tokens.create(owner.id, " laptop ")
    match = TOKEN_PATTERN.match(issued.token)
    assert match is not None and match.group(1) == issued.record.prefix
    secret = match.group(2)
    stored = await services.database.collection("api_tokens").find_one({"id": issued.record.id}, {"_id": 0})
    assert stored is not None and secret not in str(stored) and issued.token not in str(stored)
    assert stored["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert (stored["name"], stored["user_id"], stored["revoked_at"], stored["last_used_at"]) == ("laptop", owner.id,
                                                                                               None, None)
    assert secret not in repr(issued) and secret not in repr(issued.record)


async def test_create_verify_revoke_then_refused(services: Services, owner: User) -> None:
    tokens = services.users.tokens
    issued = await tokens.create(owner.id, "ci")
    verified = await tokens.verify(issued.token)
    assert verified is not None and verified.user == owner and verified.record.id == issued.record.id
    revoked, newly = await tokens.revoke(issued.record.prefix)
    assert newly and revoked.revoked_at is not None
    assert await tokens.verify(issued.token) is None
    again, newly = await tokens.revoke(issued.record.id)  # by id this time; the first time is kept
    assert not newly and again.revoked_at == revoked.revoked_at
    with pytest.raises(NotFoundError, match="API token 'nope'"):
        await tokens.revoke("nope")


async def test_an_expired_token_is_refused(services: Services, owner: User, clock: Clock) -> None:
    tokens = services.users.tokens
    issued = await tokens.create(owner.id, "short-lived", expires_at=clock.now + timedelta(hours=1))
    clock.now += timedelta(minutes=59)
    assert await tokens.verify(issued.token) is not None
    clock.now += timedelta(minutes=1)
    assert await tokens.verify(issued.token) is None
    with pytest.raises(ValidationError, match="expires_at: .* is not in the future"):
        await tokens.create(owner.id, "stale", expires_at=clock.now)


async def test_malformed_unknown_and_forged_tokens_are_refused(services: Services, owner: User) -> None:
    tokens = services.users.tokens
    issued = await tokens.create(owner.id, "ci")
    prefix, secret = TOKEN_PATTERN.match(issued.token).groups()  # type: ignore[union-attr]
    other = "A" if secret[0] != "A" else "B"
    for presented in ("", "Bearer " + issued.token, issued.token + "x", issued.token.upper(), f"sbk_{prefix}",
                      f"sbk_{'0' * 12}_{secret}", f"sbk_{prefix}_{other}{secret[1:]}", f"xyz_{prefix}_{secret}"):
        assert await tokens.verify(presented) is None, presented
    assert await tokens.verify(issued.token) is not None


async def test_a_disabled_or_deleted_owner_makes_its_tokens_fail(services: Services, owner: User) -> None:
    users: UserService = services.users
    issued = await users.tokens.create(owner.id, "ci")
    await users.set_active(owner.id, False)
    assert await users.tokens.verify(issued.token) is None
    with pytest.raises(InvalidStateError, match="disabled"):
        await users.tokens.create(owner.id, "another")
    await users.set_active(owner.id, True)
    assert await users.tokens.verify(issued.token) is not None
    await users.repo.delete(owner.id)
    assert await users.tokens.verify(issued.token) is None


async def test_last_use_is_written_at_most_once_a_minute(services: Services, owner: User, clock: Clock) -> None:
    tokens = services.users.tokens
    issued = await tokens.create(owner.id, "ci")
    first = clock.now
    await tokens.verify(issued.token)
    clock.now += timedelta(seconds=59)
    await tokens.verify(issued.token)
    assert (await tokens.get(issued.record.id)).last_used_at == first
    clock.now += timedelta(seconds=1)
    await tokens.verify(issued.token)
    assert (await tokens.get(issued.record.id)).last_used_at == clock.now


async def test_parallel_checks_of_one_token_write_its_last_use_once(services: Services, owner: User) -> None:
    tokens = services.users.tokens
    issued = await tokens.create(owner.id, "busy")
    now = utc_now()
    wrote: list[bool] = []

    async def use() -> None:
        wrote.append(await tokens.repo.mark_used(issued.record.id, now, interval=timedelta(minutes=1)))

    async with anyio.create_task_group() as group:
        for _ in range(12):
            group.start_soon(use)
    assert sorted(wrote) == [False] * 11 + [True]


async def test_tokens_list_by_owner_and_hide_revoked_ones_unless_asked(
    services: Services, owner: User, clock: Clock
) -> None:
    users = services.users
    other = await users.repo.insert(User(username="other", email="other@example.com", hashed_password="x"))
    kept = await users.tokens.create(owner.id, "kept")
    clock.now += timedelta(seconds=1)
    gone = await users.tokens.create(owner.id, "gone")
    theirs = await users.tokens.create(other.id, "theirs")
    await users.tokens.revoke(gone.record.id)
    live = await users.tokens.list_page(live_only=True)
    assert {t.id for t in live.items} == {kept.record.id, theirs.record.id}
    mine = await users.tokens.list_page(user_id=owner.id)
    assert [t.id for t in mine.items] == [gone.record.id, kept.record.id]  # newest first
    first = await users.tokens.list_page(limit=2)
    rest = await users.tokens.list_page(limit=2, cursor=first.next_cursor)
    assert len(first.items + rest.items) == 3 and rest.next_cursor is None
