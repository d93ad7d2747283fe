"""API tokens: issued once, stored as a hash, verified on every authenticated HTTP request.

A token reads ``sbk_<prefix>_<secret>``: ``prefix`` is 12 hex characters (48 random bits) stored in clear under a
unique index to find the record; ``secret`` is 32 random bytes (256 bits, URL-safe base64) of which only the
SHA-256 is stored. A fast hash is right here, where a password needs bcrypt: bcrypt's slowness only protects
guessable secrets, and nobody guesses 256 random bits, so a leaked ``api_tokens`` collection yields no token either
way, while a slow hash would cost a quarter of a second of CPU on every request (and hand anyone who can send
requests a way to exhaust the server). A salt adds nothing for the same reason: no two secrets are alike and no
precomputed table covers 2^256 values.

Verification looks the prefix up, compares the hashes in constant time, and refuses a token that is unknown,
revoked, expired, or whose owner is gone or disabled. Every check reads the database, so a revocation made through
one process is refused by every other at once. ``last_used_at`` is written at most once a minute per token, by a
conditional update that several processes agree on (``ApiTokenRepository.mark_used``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mcp_storyboard.errors import InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.models.common import Page, utc_now
from mcp_storyboard.models.users import ApiToken, User
from mcp_storyboard.repositories.api_tokens import ApiTokenRepository
from mcp_storyboard.repositories.users import UserRepository
from mcp_storyboard.services.users.passwords import same_secret

TOKEN_SCHEME = "sbk"
TOKEN_PATTERN = re.compile(r"^sbk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
"""What an issued token looks like; anything else is refused before the database is asked."""
LAST_USED_INTERVAL = timedelta(minutes=1)
TOKENS_HINT = "mcp-storyboard tokens list shows the tokens"
_DECOY_HASH = hashlib.sha256(b"no token has this secret").hexdigest()


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A new token: its record, and the token itself, which is never shown again."""

    record: ApiToken
    token: str

    def __repr__(self) -> str:  # the token must not reach a log through a printed object
        return f"IssuedToken(record={self.record!r}, token='sbk_{self.record.prefix}_***')"


@dataclass(frozen=True)
class VerifiedToken:
    """A token that passed every check, and its owner as stored at that moment."""

    record: ApiToken
    user: User


class ApiTokenService:
    """Issue, list, revoke and verify API tokens."""

    def __init__(
        self, tokens: ApiTokenRepository, users: UserRepository, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.repo = tokens
        self.users = users
        self.clock = clock

    async def create(self, user_id: str, name: str, *, expires_at: datetime | None = None) -> IssuedToken:
        """Issue a token for an enabled user.

        Raises:
            NotFoundError: no such user.
            InvalidStateError: the user is disabled.
            ValidationError: ``expires_at`` is not in the future, or ``name`` is empty or too long.
        """
        user = await self.users.get(user_id)
        if not user.is_active:
            raise InvalidStateError(f"user '{user.username}' is disabled", hint="enable the user first")
        now = self.clock()
        if expires_at is not None and expires_at <= now:
            raise ValidationError("expires_at", f"{expires_at.isoformat()} is not in the future")
        prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        record = ApiToken(
            prefix=prefix, secret_hash=secret_hash(secret), user_id=user.id, name=name, expires_at=expires_at,
            created_at=now, updated_at=now,
        )
        await self.repo.insert(record)
        return IssuedToken(record=record, token=f"{TOKEN_SCHEME}_{prefix}_{secret}")

    async def list_page(
        self, *, user_id: str | None = None, live_only: bool = False, limit: int | None = None, cursor: str | None = None
    ) -> Page[ApiToken]:
        return await self.repo.page(user_id=user_id, live_only=live_only, limit=limit, cursor=cursor)

    async def get(self, ref: str) -> ApiToken:
        """A token by its id or its prefix (as ``tokens list`` shows both).

        Raises:
            NotFoundError: neither matches.
        """
        found = await self.repo.find_by_prefix(ref.lower()) if re.fullmatch(r"[0-9a-fA-F]{12}", ref) else None
        found = found or await self.repo.find(ref)
        if found is None:
            raise NotFoundError("API token", ref, hint=TOKENS_HINT)
        return found

    async def revoke(self, ref: str) -> tuple[ApiToken, bool]:
        """Revoke a token (by id or prefix); ``(token, True)`` when this call revoked it, ``(token, False)`` when it
        was revoked already (its first revocation time is kept).

        Raises:
            NotFoundError: no such token.
        """
        token = await self.get(ref)
        revoked = await self.repo.revoke(token.id, self.clock())
        return (revoked, True) if revoked is not None else (await self.repo.get(token.id), False)

    async def verify(self, presented: str) -> VerifiedToken | None:
        """The token and its owner when ``presented`` is a live token of an enabled user; None otherwise (the caller
        answers 401 whatever the reason, so the reason is not returned)."""
        match = TOKEN_PATTERN.match(presented)
        if match is None:
            return None
        prefix, secret = match.groups()
        record = await self.repo.find_by_prefix(prefix)
        # Compared even when the prefix is unknown, so that path costs the same.
        if not same_secret(secret_hash(secret), record.secret_hash if record else _DECOY_HASH) or record is None:
            return None
        now = self.clock()
        if record.revoked_at is not None or (record.expires_at is not None and record.expires_at <= now):
            return None
        user = await self.users.find(record.user_id)
        if user is None or not user.is_active:
            return None
        if record.last_used_at is None or record.last_used_at <= now - LAST_USED_INTERVAL:  # else no round trip
            await self.repo.mark_used(record.id, now, interval=LAST_USED_INTERVAL)
        return VerifiedToken(record=record, user=user)
