"""Password hashing with bcrypt, and the password policy.

bcrypt reads at most 72 bytes of a password and ignores the rest; a longer password is refused (never silently
cut short), with an error that names ``password`` and the limit in bytes. Refusing was chosen over pre-hashing
(SHA-256, then bcrypt): a pre-hash would make our hashes differ from plain bcrypt ones, so hashes written by the
original application or another bcrypt tool would no longer verify, and 72 bytes is already longer than any
password a person types. The policy counts characters for its minimum and UTF-8 bytes for bcrypt's maximum, so a
password of 30 characters outside ASCII (up to 4 bytes each) can be refused as too long; the error says so.

Passwords are normalised to Unicode NFKC before they are measured and hashed (NIST SP 800-63B), so the same
password typed on two keyboards that compose accents differently verifies either way.

The work factor is at least 12 (:data:`MIN_ROUNDS`). Only a test may ask for less, by passing ``weak_for_tests``
to :class:`PasswordHasher`; no setting or environment variable lowers it.
"""

from __future__ import annotations

import hmac
import secrets
import unicodedata
from typing import TYPE_CHECKING

import anyio

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.lazy_import import lazy_module

if TYPE_CHECKING:
    import bcrypt
else:
    bcrypt = lazy_module("bcrypt")  # imported on first use: not needed to start the server

MIN_ROUNDS = 12
"""bcrypt's work factor (log2 of its iterations): 12 takes about a quarter of a second per hash on a server core."""
BCRYPT_MAX_BYTES = 72
MIN_PASSWORD_CHARS = 12


def normalised(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_policy(password: str, *, field: str = "password") -> bytes:
    """The password as the bytes bcrypt hashes, once it meets the policy.

    Raises:
        ValidationError: fewer than :data:`MIN_PASSWORD_CHARS` characters, more than :data:`BCRYPT_MAX_BYTES` bytes
            in UTF-8, or a NUL character; the message names ``field`` and the limit.
    """
    text = normalised(password)
    if len(text) < MIN_PASSWORD_CHARS:
        raise ValidationError(
            field, f"is {len(text)} characters long; a password needs at least {MIN_PASSWORD_CHARS}",
            hint="choose a longer password (a passphrase of several words works well)",
        )
    if "\x00" in text:
        raise ValidationError(field, "contains a NUL character", hint="remove it")
    data = text.encode("utf-8")
    if len(data) > BCRYPT_MAX_BYTES:
        raise ValidationError(
            field, f"is {len(data)} bytes long in UTF-8; bcrypt uses at most {BCRYPT_MAX_BYTES} bytes and would "
            "ignore the rest, so it is refused rather than cut short",
            hint=f"choose a password of at most {BCRYPT_MAX_BYTES} bytes (a character outside ASCII takes 2 to 4)",
        )
    return data


class PasswordHasher:
    """bcrypt at a fixed work factor; hashing and checking run in a worker thread (they take ~0.25 s of CPU)."""

    def __init__(self, rounds: int = MIN_ROUNDS, *, weak_for_tests: bool = False) -> None:
        """Raises: ValueError: ``rounds`` is below :data:`MIN_ROUNDS` without ``weak_for_tests`` (bcrypt's own
        minimum, 4, always holds)."""
        if rounds < MIN_ROUNDS and not weak_for_tests:
            raise ValueError(f"bcrypt rounds must be at least {MIN_ROUNDS}; only tests may ask for fewer")
        if not 4 <= rounds <= 31:
            raise ValueError("bcrypt rounds must be 4-31")
        self.rounds = rounds
        self._decoy: bytes | None = None

    async def hash(self, password: str) -> str:
        """The bcrypt hash of a password that meets the policy.

        Raises:
            ValidationError: the policy refuses it (see :func:`check_policy`).
        """
        data = check_policy(password)
        hashed = await anyio.to_thread.run_sync(self._hash_bytes, data)
        return hashed.decode("ascii")

    async def unusable_hash(self) -> str:
        """A hash no password matches in practice (of 32 random bytes nobody keeps): an account without a password
        signs in with API tokens only, and checking a password against it costs what any check costs."""
        return (await anyio.to_thread.run_sync(self._hash_bytes, secrets.token_bytes(32))).decode("ascii")

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Whether ``password`` matches ``hashed``; with ``hashed`` None (no such account) it checks against a decoy
        hash of the same work factor, so the answer takes as long either way and tells nothing about who exists.
        A password the policy would refuse (too long for bcrypt, say) is checked the same way and never matches."""
        data = normalised(password).encode("utf-8")
        usable = hashed is not None and len(data) <= BCRYPT_MAX_BYTES
        target = hashed.encode("ascii") if hashed is not None and usable else await self._decoy_hash()
        candidate = data if len(data) <= BCRYPT_MAX_BYTES else data[:BCRYPT_MAX_BYTES]
        try:
            matched = await anyio.to_thread.run_sync(bcrypt.checkpw, candidate, target)
        except ValueError:  # a stored value that is not a bcrypt hash: it matches nothing
            return False
        return matched and usable

    def needs_rehash(self, hashed: str) -> bool:
        """Whether ``hashed`` was made with fewer rounds than this hasher uses (it is then rehashed on sign-in)."""
        try:
            return int(hashed.split("$")[2]) < self.rounds
        except (IndexError, ValueError):
            return True

    def _hash_bytes(self, data: bytes) -> bytes:
        return bcrypt.hashpw(data, bcrypt.gensalt(self.rounds))

    async def _decoy_hash(self) -> bytes:
        if self._decoy is None:
            self._decoy = await anyio.to_thread.run_sync(self._hash_bytes, secrets.token_bytes(16))
        return self._decoy


def same_secret(a: str, b: str) -> bool:
    """Compare two secrets (or their hashes) in time that does not depend on where they differ."""
    return hmac.compare_digest(a.encode(), b.encode())
