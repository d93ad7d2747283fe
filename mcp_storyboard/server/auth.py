"""Bearer-token authentication for Streamable HTTP: the mcp SDK's ``TokenVerifier`` over the stored API tokens.

:class:`StoredTokenVerifier` answers the SDK's ``verify_token(token)`` with an ``AccessToken`` whose ``subject`` and
``client_id`` are the owner's user id and whose scopes say what the owner may do (:data:`SCOPE_USER` for every
user, :data:`SCOPE_ADMIN` as well for admins), or None for a token that is unknown, malformed, revoked, expired,
or owned by a missing or disabled user; the SDK then answers 401 with ``WWW-Authenticate``. Each call reads the
database (``ApiTokenService.verify``), so a revocation through any process is refused by every process at once.

A database failure is raised, not turned into None: the client should see a server error and retry, not be told
its token is bad.

Wiring (``serve --transport http``) is the next step: see ``docs/users.md``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken, TokenVerifier

from mcp_storyboard.services.users import ApiTokenService

SCOPE_USER = "storyboard"
"""Every verified token carries it (``AuthSettings.required_scopes``)."""
SCOPE_ADMIN = "storyboard:admin"
"""Tokens of admin users carry it as well: the admin toolsets require it."""

TokenSource = Callable[[], Awaitable[ApiTokenService]]
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
