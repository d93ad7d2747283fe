"""The ``users`` collection: accounts for the HTTP transport."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from mcp_storyboard.models.common import Document, UtcDatetime, keep
from mcp_storyboard.models.values import CollectionPatch


def _trim_lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{2,49}$"


def _check_username(value: str) -> str:
    # One message that says the whole rule (a length constraint after a validator reads "at least 3 items").
    if not re.fullmatch(USERNAME_PATTERN, value):
        raise PydanticCustomError(
            "username", "a username is 3-50 characters of a-z, 0-9, _ . - starting with a letter or digit"
        )
    return value


Username = Annotated[
    str,
    BeforeValidator(_trim_lower),
    AfterValidator(_check_username),
    WithJsonSchema({"type": "string", "minLength": 3, "maxLength": 50, "pattern": USERNAME_PATTERN}),
]
"""A username: trimmed and lower-cased, then 3–50 of a–z, 0–9, ``_``, ``.``, ``-`` (starting with a letter or
digit)."""

Email = Annotated[
    str,
    BeforeValidator(_trim_lower),
    StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"),
]
"""An e-mail address: trimmed and lower-cased (as the original app did), one ``@``, a dotted domain, no
whitespace; at most 254 characters. Deliverability is not checked."""

HashedPassword = Annotated[str, Field(min_length=1, max_length=255, repr=False)]
"""A password hash (bcrypt), never the password itself."""


class User(Document):
    """A user account. Only the password hash is stored; a ``password`` key in the input is refused."""

    collection: ClassVar[str] = "users"

    username: Username
    """Unique username, 3–50 characters, lower case."""
    email: Email
    """Unique e-mail address, lower case."""
    hashed_password: HashedPassword
    """bcrypt hash of the password."""
    is_active: bool = True
    """Whether the account may sign in."""
    is_admin: bool = False
    """Whether the account has admin rights."""

    @model_validator(mode="before")
    @classmethod
    def _no_plain_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError("a user stores hashed_password only; hash the password before building the model")
        return data


class UserPatch(CollectionPatch):
    """Fields of a user a caller (the account service) may change."""

    username: Username = keep()
    """New username."""
    email: Email = keep()
    """New e-mail address."""
    hashed_password: HashedPassword = keep()
    """New password hash."""
    is_active: bool = keep()
    """Enable or disable the account."""
    is_admin: bool = keep()
    """Grant or revoke admin rights."""


TOKEN_PREFIX_PATTERN = r"^[0-9a-f]{12}$"

TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
"""What a token is for ("laptop", "ci"): 1–100 characters, surrounding whitespace removed."""


class ApiToken(Document):
    """An API token (collection ``api_tokens``, an addition to the schema). The token itself
    (``sbk_<prefix>_<secret>``) is shown once, when it is created; only ``prefix`` (to find it) and the SHA-256 of
    its secret are stored."""

    collection: ClassVar[str] = "api_tokens"

    prefix: Annotated[str, Field(pattern=TOKEN_PREFIX_PATTERN)]
    """12 hex characters, unique: the part of the token that finds its record (not secret)."""
    secret_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", repr=False)]
    """SHA-256 (hex) of the token's secret part, never the secret itself."""
    user_id: Annotated[str, Field(min_length=1, max_length=64)]
    """The owner: a user id."""
    name: TokenName
    """What the token is for."""
    expires_at: UtcDatetime | None = None
    """When the token stops working; None: it does not expire."""
    last_used_at: UtcDatetime | None = None
    """When a request last presented it (written at most once a minute)."""
    revoked_at: UtcDatetime | None = None
    """When it was revoked; None while it is live."""
