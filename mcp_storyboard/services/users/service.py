"""User accounts: create, read, change, disable, and check passwords.

Usernames and e-mail addresses are trimmed and lower-cased by the model and unique by index, so two creates of one
name race safely (one wins, the other gets a conflict naming the field). Passwords go through
:mod:`~mcp_storyboard.services.users.passwords` (policy, bcrypt at a work factor of at least 12); an account
created without one signs in with API tokens only.

The last enabled admin cannot be disabled or demoted: that would leave nobody to administer the server over HTTP.
The rule is checked before the write and again after it (two admins demoting each other at once would both pass
the first check), and a write that broke it is undone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.models.common import Page, Patch, keep, utc_now
from mcp_storyboard.models.users import Email, User, Username
from mcp_storyboard.repositories.api_tokens import ApiTokenRepository
from mcp_storyboard.repositories.users import UserRepository
from mcp_storyboard.services.users.passwords import PasswordHasher
from mcp_storyboard.services.users.rate_limits import RateLimiter
from mcp_storyboard.services.users.tokens import ApiTokenService

USERS_HINT = "list_users (or mcp-storyboard users list) shows the users"
_ADMIN_FIELDS = ("is_active", "is_admin")


class NewUser(BaseModel):
    """What a create validates before anything is hashed or written (the errors name the field)."""

    username: Username
    email: Email


class UserUpdate(Patch):
    """The fields of a user to change; leave one out to keep it."""

    username: Username = keep()
    """New username (3–50 of a-z, 0-9, _ . -; stored lower-case)."""
    email: Email = keep()
    """New e-mail address (stored lower-case)."""
    password: str = keep(max_length=1000)
    """New password: at least 12 characters and at most 72 bytes in UTF-8; stored only as a bcrypt hash."""
    is_active: bool = keep(strict=True)
    """Enable (true) or disable (false) the account; a disabled account's tokens are refused."""
    is_admin: bool = keep(strict=True)
    """Grant or revoke admin rights."""


class UserService:
    """Accounts (collection ``users``) and, through ``tokens``, their API tokens (``api_tokens``)."""

    def __init__(
        self, database: Database, *, hasher: PasswordHasher | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.repo = UserRepository(database)
        self.hasher = hasher or PasswordHasher()
        # Token use and call counts are bookkeeping, written even by a read-only server (``Database.bookkeeping``).
        self.tokens = ApiTokenService(ApiTokenRepository(database.bookkeeping), self.repo, clock=clock)
        self.rate_limits = RateLimiter(database.bookkeeping, clock=clock)

    async def create(self, username: str, email: str, password: str | None = None, *, is_admin: bool = False) -> User:
        """Create an enabled account.

        Raises:
            pydantic.ValidationError: a bad username or e-mail address (named).
            ValidationError: the password breaks the policy (named ``password``).
            DuplicateKeyConflict: the username or e-mail address is taken (named).
        """
        new = NewUser(username=username, email=email)
        hashed = await (self.hasher.hash(password) if password is not None else self.hasher.unusable_hash())
        user = User(username=new.username, email=new.email, hashed_password=hashed, is_admin=is_admin)
        return await self.repo.insert(user)

    async def get(self, user_id: str) -> User:
        """Raises: NotFoundError."""
        user = await self.repo.find(user_id)
        if user is None:
            raise NotFoundError("user", user_id, hint=USERS_HINT)
        return user

    async def by_username(self, username: str) -> User:
        """The user with this username, in any case.

        Raises:
            NotFoundError: none has it.
        """
        user = await self.repo.find_by_username(username)
        if user is None:
            raise NotFoundError("user", username.strip().lower(), hint=USERS_HINT)
        return user

    async def list_page(
        self, *, active: bool | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Page[User]:
        """Users by username; ``active`` keeps only enabled (True) or disabled (False) ones."""
        return await self.repo.page(active=active, limit=limit, cursor=cursor)

    async def update(self, user_id: str, update: UserUpdate) -> tuple[User, list[str]]:
        """Change the fields set on ``update`` in one write; returns the user and the fields changed (``password``
        among them when it was set; its hash is never returned).

        Raises:
            ValidationError: nothing is set, or the password breaks the policy.
            NotFoundError: no such user.
            DuplicateKeyConflict: the new username or e-mail address is taken.
            InvalidStateError: the change would disable or demote the last enabled admin.
        """
        changes: dict[str, Any] = update.changes()
        if not changes:
            raise ValidationError("patch", "sets no field", allowed=list(UserUpdate.model_fields))
        fields = [name for name in UserUpdate.model_fields if name in changes]
        before = await self.get(user_id)
        if "password" in changes:
            changes["hashed_password"] = await self.hasher.hash(changes.pop("password"))
        if self._takes_an_admin_away(before, changes):
            await self._refuse_if_last_admin(before)
        try:
            after = await self.repo.update_fields(user_id, changes)
        except NotFoundError:
            raise NotFoundError("user", user_id, hint=USERS_HINT) from None
        if self._takes_an_admin_away(before, changes) and await self.repo.count_active_admins() == 0:
            await self.repo.update_fields(user_id, {name: getattr(before, name) for name in changes})
            await self._refuse_if_last_admin(before, raced=True)
        return after, fields

    async def set_password(self, user_id: str, password: str) -> User:
        """Raises: ValidationError (the policy), NotFoundError."""
        user, _ = await self.update(user_id, UserUpdate(password=password))
        return user

    async def set_active(self, user_id: str, active: bool) -> tuple[User, bool]:
        """Enable or disable an account; True when this call changed it.

        Raises:
            NotFoundError: no such user.
            InvalidStateError: it is the last enabled admin (disabling).
        """
        return await self._set_flag(user_id, "is_active", active)

    async def set_admin(self, user_id: str, admin: bool) -> tuple[User, bool]:
        """Grant or revoke admin rights; True when this call changed them.

        Raises:
            NotFoundError: no such user.
            InvalidStateError: it is the last enabled admin (revoking).
        """
        return await self._set_flag(user_id, "is_admin", admin)

    async def verify_password(self, username: str, password: str) -> User | None:
        """The enabled user with this username and password, else None. The check takes as long for an unknown
        username or a disabled account (a decoy hash is checked), so timing tells nobody which usernames exist.
        A hash made with fewer rounds than the hasher's is replaced on success."""
        user = await self.repo.find_by_username(username)
        matched = await self.hasher.verify(password, user.hashed_password if user is not None else None)
        if user is None or not matched or not user.is_active:
            return None
        if self.hasher.needs_rehash(user.hashed_password):
            user = await self.repo.update_fields(user.id, {"hashed_password": await self.hasher.hash(password)})
        return user

    async def _set_flag(self, user_id: str, flag: str, value: bool) -> tuple[User, bool]:
        user = await self.get(user_id)
        if getattr(user, flag) == value:
            return user, False
        updated, _ = await self.update(user_id, UserUpdate.model_validate({flag: value}))
        return updated, True

    @staticmethod
    def _takes_an_admin_away(before: User, changes: dict[str, Any]) -> bool:
        was_admin = before.is_admin and before.is_active
        return was_admin and any(changes.get(name, True) is False for name in _ADMIN_FIELDS)

    async def _refuse_if_last_admin(self, user: User, *, raced: bool = False) -> None:
        if raced or await self.repo.count_active_admins() <= 1:
            why = " (another admin was demoted or disabled at the same time; nothing was changed)" if raced else ""
            raise InvalidStateError(
                f"user '{user.username}' is the last enabled admin{why}",
                hint="make another user admin first (mcp-storyboard users make-admin NAME, or update_user)",
            )
