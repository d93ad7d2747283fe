"""Bearer-token authentication for Streamable HTTP: the mcp SDK's ``TokenVerifier`` over the stored API tokens.

:class:`StoredTokenVerifier` answers the SDK's ``verify_token(token)`` with an ``AccessToken`` whose ``subject`` and
``client_id`` are the owner's user id and whose scopes say what the owner may do (:data:`SCOPE_USER` for every
user, :data:`SCOPE_ADMIN` as well for admins), or None for a token that is unknown, malformed, revoked, expired,
or owned by a missing or disabled user; the SDK then answers 401 with ``WWW-Authenticate``. Each call reads the
database (``ApiTokenService.verify``), so a revocation through any process is refused by every process at once.

A database failure is raised, not turned into None: the client should see a server error and retry, not be told
its token is bad.

Wiring (``serve --transport http``): :class:`HttpAuth` gives ``build_server`` the SDK's ``AuthSettings`` and a
verifier whose token service comes from a :class:`ServicesGate` the server's lifespan opens; :func:`admin_guard`
refuses the admin-only toolsets to non-admin callers in one place (``docs/users.md``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import (
    CallNext,
    HandlerResult,
    ServerMiddleware,
    ServerRequestContext,
)
from pydantic import AnyHttpUrl

from mcp_storyboard.config import DEFAULT_RATE_LIMIT_PER_MINUTE
from mcp_storyboard.errors import ForbiddenError, RateLimitedError
from mcp_storyboard.server.errors import error_result, format_domain_error
from mcp_storyboard.server.scope import OpeningServices, current_services

if TYPE_CHECKING:  # a type only; the service (and the driver under it) is imported when the services open
    from mcp_storyboard.services.users import ApiTokenService

SCOPE_USER = "storyboard"
"""Every verified token carries it (``AuthSettings.required_scopes``)."""
SCOPE_ADMIN = "storyboard:admin"
"""Tokens of admin users carry it as well: the admin toolsets require it."""

TokenSource = Callable[[], Awaitable["ApiTokenService"]]
"""How the verifier reaches the token service: the server's services open in its lifespan, after the verifier is
built, so it asks for them on each call (waiting while they open)."""


class StoredTokenVerifier(TokenVerifier):
    """Verify ``sbk_...`` bearer tokens against the ``api_tokens`` collection."""

    def __init__(self, tokens: TokenSource, *, resource: str | None = None) -> None:
        """``resource``: this server's URL (``AuthSettings.resource_server_url``); every token this server issues is
        for itself, so it is each ``AccessToken``'s ``resource`` and ``validate_token_resource`` can stay on."""
        self._tokens = tokens
        self._resource = resource

    @classmethod
    def over(cls, service: ApiTokenService, *, resource: str | None = None) -> StoredTokenVerifier:
        """A verifier of an already open token service."""

        async def source() -> ApiTokenService:
            return service

        return cls(source, resource=resource)

    async def verify_token(self, token: str) -> AccessToken | None:
        verified = await (await self._tokens()).verify(token)
        if verified is None:
            return None
        user, record = verified.user, verified.record
        return AccessToken(
            token=token,
            client_id=user.id,
            subject=user.id,
            scopes=[SCOPE_USER, SCOPE_ADMIN] if user.is_admin else [SCOPE_USER],
            expires_at=int(record.expires_at.timestamp()) if record.expires_at is not None else None,
            resource=self._resource,
            claims={"username": user.username, "token_id": record.id},
        )


@dataclass(frozen=True)
class Caller:
    """Who sent the current HTTP request, as the authorization checks need it."""

    user_id: str
    username: str
    is_admin: bool


def caller_of(access: AccessToken) -> Caller:
    """The caller an ``AccessToken`` made by :class:`StoredTokenVerifier` stands for."""
    claims = access.claims or {}
    return Caller(user_id=access.subject or access.client_id, username=str(claims.get("username", "")),
                  is_admin=SCOPE_ADMIN in access.scopes)


def current_caller() -> Caller | None:
    """The authenticated caller of the current request; None without one (stdio, or HTTP with ``--no-auth``)."""
    access = get_access_token()
    return None if access is None else caller_of(access)


def caller_id() -> str | None:
    """The authenticated caller's user id (the owner of what it creates); None over stdio and with ``--no-auth``."""
    caller = current_caller()
    return None if caller is None else caller.user_id


ADMIN_TOOLSETS = frozenset({"users"})
"""Toolsets whose every tool is for admins only over HTTP (their tools can read or change any account)."""
SHARED_WRITES = frozenset({"models"})
"""Toolsets whose writes change what every user shares (the model catalog, CivitAI sync and import): admins only."""
SHARED_WRITE_TOOLS = frozenset({
    "register_comfyui_server", "update_comfyui_server", "delete_comfyui_server", "check_comfyui_server",
})  # fmt: skip
"""The shared ComfyUI servers' writes, in the ``generation`` toolset whose batches belong to their projects."""


def is_admin_only(name: str, toolset: str, operation: str) -> bool:
    """The one rule of what an admin alone may call over HTTP (issue 10)."""
    if toolset in ADMIN_TOOLSETS or name in SHARED_WRITE_TOOLS:
        return True
    return toolset in SHARED_WRITES and operation != "read"


def require_admin(tool: str) -> None:
    """Refuse ``tool`` unless the caller is an admin; over stdio and with ``--no-auth`` (no caller) it is allowed.

    Raises:
        ForbiddenError: an authenticated caller who is not an admin.
    """
    caller = current_caller()
    if caller is not None and not caller.is_admin:
        raise ForbiddenError(f"{tool} is for admins only and {caller.username or caller.user_id} is not an admin",
                             hint="Ask an admin to run it, or to make you one (mcp-storyboard users make-admin)")


def admin_guard(specs: Iterable[Any]) -> ServerMiddleware[Any]:
    """Middleware: a ``tools/call`` of an admin-only tool (:func:`is_admin_only`) by a non-admin answers
    ``[forbidden] ...`` and runs nothing. ``specs``: every registered tool's ``registry.ToolSpec``."""
    admin_tools = frozenset(s.name for s in specs if is_admin_only(s.name, s.toolset, s.operation))

    async def guard_admin_tools(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = ctx.params
        name = params.get("name") if ctx.method == "tools/call" and isinstance(params, Mapping) else None
        if isinstance(name, str) and name in admin_tools:
            try:
                require_admin(name)
            except ForbiddenError as exc:
                return error_result(format_domain_error(exc)).model_dump(mode="json", by_alias=True,
                                                                         exclude_none=True)
        return await call_next(ctx)

    return guard_admin_tools


class ServicesGate:
    """Where the HTTP authentication middleware finds the token service: the server's lifespan publishes its
    :class:`OpeningServices` here, and the verifier waits for them (requests may arrive while the database
    opens). The SDK authenticates in Starlette middleware, outside the MCP middleware that binds services."""

    def __init__(self) -> None:
        self._published = anyio.Event()
        self._opening: OpeningServices | None = None

    def publish(self, opening: OpeningServices) -> None:
        self._opening = opening
        self._published.set()

    async def tokens(self) -> ApiTokenService:
        await self._published.wait()
        assert self._opening is not None
        services = await self._opening.ready()
        tokens: ApiTokenService = services.users.tokens
        return tokens


@dataclass(frozen=True)
class HttpAuth:
    """Bearer-token authentication of ``serve --transport http``: this server's public URL (``https://host:port``,
    without ``/mcp``) names the protected resource in the metadata and in each token's ``resource``."""

    public_url: str
    calls_per_minute: int = DEFAULT_RATE_LIMIT_PER_MINUTE
    """Each API token's tool calls a minute (``STORYBOARD_RATE_LIMIT``); 0: no limit."""

    @property
    def resource(self) -> str:
        return self.public_url.rstrip("/") + "/mcp"

    def settings(self) -> AuthSettings:
        """The SDK's settings: this server is the resource server (tokens are issued by ``mcp-storyboard tokens``,
        so the issuer named in the metadata is the server itself)."""
        return AuthSettings(issuer_url=AnyHttpUrl(self.public_url), resource_server_url=AnyHttpUrl(self.resource),
                            required_scopes=[SCOPE_USER], validate_token_resource=True)

    def verifier(self, gate: ServicesGate) -> StoredTokenVerifier:
        return StoredTokenVerifier(gate.tokens, resource=self.resource)




def rate_guard(per_minute: int) -> ServerMiddleware[Any]:
    """Middleware: count each ``tools/call`` of an authenticated caller against its API token's limit a minute
    (in the database, so every process counts together); over it, ``[rate-limited] ...`` and nothing runs."""

    async def guard_rate(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        access = get_access_token() if ctx.method == "tools/call" else None
        if access is not None:
            key = str((access.claims or {}).get("token_id") or access.client_id)
            try:
                await current_services().users.rate_limits.check(key, per_minute)
            except RateLimitedError as exc:
                return error_result(format_domain_error(exc)).model_dump(mode="json", by_alias=True, exclude_none=True)
        return await call_next(ctx)

    return guard_rate
