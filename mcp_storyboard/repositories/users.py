"""User accounts: unique, lower-case usernames and e-mail addresses."""

from __future__ import annotations

from typing import Any

from mcp_storyboard.models.common import Page
from mcp_storyboard.models.users import User
from mcp_storyboard.repositories.base import NO_ID, Repository, Session, _s

# Served by the schema's unique index {username: 1}, which alone makes the order total.
BY_USERNAME = (("username", 1),)


def _normalised(value: str) -> str:
    # The same normalisation the User model applies before storing (trim, lower-case), so lookups match.
    return value.strip().lower()


class UserRepository(Repository[User]):
    """Users; ``insert`` and ``apply_patch`` raise ``DuplicateKeyConflict`` naming ``username`` or ``email``."""

    document = User
    kind = "user"

    async def find_by_username(self, username: str, *, session: Session = None) -> User | None:
        """The user with this username, in any case ("Alice " finds "alice")."""
        raw = await self.collection.find_one({"username": _normalised(username)}, NO_ID, **_s(session))
        return None if raw is None else self.from_document(raw)

    async def find_by_email(self, email: str, *, session: Session = None) -> User | None:
        """The user with this e-mail address, in any case."""
        raw = await self.collection.find_one({"email": _normalised(email)}, NO_ID, **_s(session))
        return None if raw is None else self.from_document(raw)

    async def page(self, *, active: bool | None = None, limit: int | None = None, cursor: str | None = None) -> Page[User]:
        """Users by username; ``active`` True or False keeps only enabled or disabled ones (a small collection: the
        username index is walked and the flag filtered)."""
        query: dict[str, Any] = {} if active is None else {"is_active": active}
        return await self._page(query, BY_USERNAME, limit=limit, cursor=cursor)

    async def count_active_admins(self) -> int:
        """How many enabled admin accounts exist (the last one must not be demoted or disabled)."""
        return await self.count({"is_admin": True, "is_active": True})
