"""What the user service shows: accounts and tokens without any hash."""

from __future__ import annotations

from mcp_storyboard.models.common import StoryboardModel, UtcDatetime
from mcp_storyboard.models.users import ApiToken, User


class UserView(StoryboardModel):
    """A user account as tools and the command line show it: everything stored but the password hash."""

    id: str
    username: str
    email: str
    is_active: bool
    is_admin: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls.model_validate(user.model_dump(exclude={"hashed_password"}))


class TokenView(StoryboardModel):
    """An API token as listed: everything stored but the hash of its secret."""

    id: str
    prefix: str
    user_id: str
    name: str
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    last_used_at: UtcDatetime | None
    revoked_at: UtcDatetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenView:
        return cls.model_validate(token.model_dump(exclude={"secret_hash"}))
