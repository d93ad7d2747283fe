"""User accounts (the admin toolset ``users``, off by default): list, read, create, change and disable them.

No tool returns a password hash or a token hash: results are built from ``UserView``, which has neither. Over HTTP
every tool of this toolset is for admins only; that check belongs to the HTTP authorization layer, not here.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field, JsonValue

from mcp_storyboard.models.common import Page, StoryboardModel, Uuid
from mcp_storyboard.models.users import Email, Username
from mcp_storyboard.models.values import PageSize
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.services.users import UserUpdate, UserView

TOOLSET: Toolset = "users"
tool = ToolRegistry(TOOLSET)

UserId = Annotated[Uuid, Field(description="A user id.")]
Cursor = Annotated[str | None, Field(max_length=2000, description="next_cursor of the previous page.")]


class UserPage(Page[UserView]):
    """One page of users by username; pass ``next_cursor`` back for the next page."""


class UserWritten(StoryboardModel):
    """A user write's result: the user's id and what the call set (a new password shows as ``password: "set"``)."""

    id: str
    changed: dict[str, JsonValue]


def user_written(user: UserView, fields: list[str]) -> UserWritten:
    shown = user.model_dump(mode="json")
    changed: dict[str, Any] = {name: "set" if name == "password" else shown[name] for name in fields}
    return UserWritten(id=user.id, changed=changed)


@tool(title="List users", operation="read")
async def list_users(
    ctx: Context,
    active: Annotated[bool | None, Field(description="Only enabled (true) or disabled (false) users.")] = None,
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Cursor = None,
) -> UserPage:
    """User accounts by username, paginated."""
    page = await get_services(ctx).users.list_page(active=active, limit=limit, cursor=cursor)
    return UserPage(items=[UserView.of(u) for u in page.items], next_cursor=page.next_cursor)


@tool(title="Get a user", operation="read")
async def get_user(user_id: UserId, ctx: Context) -> UserView:
    """One user account: username, e-mail, enabled, admin."""
    return UserView.of(await get_services(ctx).users.get(user_id))


@tool(title="Create a user", operation="create")
async def create_user(
    username: Annotated[Username, Field(description="3-50 of a-z 0-9 _ . - (stored lower-case; unique).")],
    email: Annotated[Email, Field(description="E-mail address (stored lower-case; unique).")],
    ctx: Context,
    password: Annotated[str | None, Field(max_length=1000, description="12+ characters, at most 72 bytes; stored "
                                          "only as a bcrypt hash. Omit it for a token-only account.")] = None,
    is_admin: Annotated[bool, Field(strict=True, description="Grant admin rights.")] = False,
) -> UserWritten:
    """Create an enabled user account."""
    user = await get_services(ctx).users.create(username, email, password, is_admin=is_admin)
    fields = ["username", "email", "is_active", "is_admin"] + (["password"] if password is not None else [])
    return user_written(UserView.of(user), fields)


@tool(title="Update a user", operation="update")
async def update_user(
    user_id: UserId,
    patch: Annotated[UserUpdate, Field(description="Only the fields to change.")],
    ctx: Context,
) -> UserWritten:
    """Rename, change e-mail or password, enable/disable, grant/revoke admin (the last enabled admin stays)."""
    user, fields = await get_services(ctx).users.update(user_id, patch)
    return user_written(UserView.of(user), fields)


@tool(title="Deactivate a user", operation="update", idempotent=True)
async def deactivate_user(user_id: UserId, ctx: Context) -> UserWritten:
    """Disable an account: its tokens are refused from the next request; update_user re-enables it."""
    user, _ = await get_services(ctx).users.set_active(user_id, False)
    return user_written(UserView.of(user), ["is_active"])
