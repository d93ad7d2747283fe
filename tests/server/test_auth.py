"""The bearer-token verifier: the SDK's ``TokenVerifier`` over stored API tokens, and what the SDK's bearer
backend makes of its answers (the HTTP wiring comes later)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, BearerAuthBackend
from mcp.server.auth.provider import TokenVerifier
from pydantic import AnyHttpUrl
from starlette.requests import HTTPConnection

from mcp_storyboard.db.connection import Database
from mcp_storyboard.models.common import utc_now
from mcp_storyboard.models.users import User
from mcp_storyboard.server.auth import SCOPE_ADMIN, SCOPE_USER, StoredTokenVerifier, caller_of
from mcp_storyboard.services.container import Services

RESOURCE = "http://127.0.0.1:8765/mcp"


@pytest.fixture
def services(db: Database) -> Services:
    return Services.over(db)


async def user(services: Services, name: str, **fields: object) -> User:
    return await services.users.repo.insert(User(username=name, email=f"{name}@example.com", hashed_password="x",
                                                 **fields))  # type: ignore[arg-type]


def connection(authorization: str | None) -> HTTPConnection:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return HTTPConnection({"type": "http", "headers": headers, "path": "/mcp", "method": "POST"})


async def test_a_valid_token_becomes_an_access_token_naming_its_owner_and_rights(services: Services) -> None:
    alice = await user(services, "alice")
    root = await user(services, "root", is_admin=True)
    expires = utc_now() + timedelta(days=1)
    plain = await services.users.tokens.create(alice.id, "laptop", expires_at=expires)
    admin = await services.users.tokens.create(root.id, "ops")
    verifier: TokenVerifier = StoredTokenVerifier.over(services.users.tokens, resource=RESOURCE)

    access = await verifier.verify_token(plain.token)
    assert access is not None
    assert (access.client_id, access.subject, access.scopes, access.resource) == (alice.id, alice.id, [SCOPE_USER],
                                                                                  RESOURCE)
    assert access.expires_at == int(expires.timestamp())
    assert access.claims == {"username": "alice", "token_id": plain.record.id}
    assert caller_of(access).user_id == alice.id and not caller_of(access).is_admin

    admin_access = await verifier.verify_token(admin.token)
    assert admin_access is not None and admin_access.scopes == [SCOPE_USER, SCOPE_ADMIN]
    assert admin_access.expires_at is None and caller_of(admin_access).is_admin


async def test_unknown_revoked_expired_and_disabled_tokens_get_nothing(services: Services) -> None:
    alice = await user(services, "alice")
    bob = await user(services, "bob")
    tokens = services.users.tokens
    revoked = await tokens.create(alice.id, "old")
    await tokens.revoke(revoked.record.id)
    expiring = await tokens.create(alice.id, "brief", expires_at=utc_now() + timedelta(hours=1))
    disabled = await tokens.create(bob.id, "bob's")
    await services.users.set_active(bob.id, False)
    verifier = StoredTokenVerifier.over(tokens)
    tokens.clock = lambda: utc_now() + timedelta(hours=2)
    for token in ("", "not-a-token", revoked.token, expiring.token, disabled.token, revoked.token[:-1] + "x"):
        assert await verifier.verify_token(token) is None, token


async def test_the_sdk_bearer_backend_authenticates_with_it_and_checks_the_resource(services: Services) -> None:
    alice = await user(services, "alice")
    issued = await services.users.tokens.create(alice.id, "laptop")
    backend = BearerAuthBackend(StoredTokenVerifier.over(services.users.tokens, resource=RESOURCE),
                                resource_server_url=AnyHttpUrl(RESOURCE))
    found = await backend.authenticate(connection(f"Bearer {issued.token}"))
    assert found is not None
    credentials, authenticated = found
    assert isinstance(authenticated, AuthenticatedUser) and credentials.scopes == [SCOPE_USER]
    assert authenticated.access_token.subject == alice.id
    assert await backend.authenticate(connection(None)) is None
    assert await backend.authenticate(connection("Bearer sbk_000000000000_" + "A" * 43)) is None
    # A verifier that names no resource would be refused by a server that checks it: the wiring must pass one.
    strict = BearerAuthBackend(StoredTokenVerifier.over(services.users.tokens),
                               resource_server_url=AnyHttpUrl(RESOURCE))
    assert await strict.authenticate(connection(f"Bearer {issued.token}")) is None


async def test_the_verifier_waits_for_the_services_it_is_given_lazily(services: Services) -> None:
    alice = await user(services, "alice")
    issued = await services.users.tokens.create(alice.id, "laptop")
    asked: list[str] = []

    async def source():  # type: ignore[no-untyped-def]
        asked.append("tokens")
        return services.users.tokens

    verifier = StoredTokenVerifier(source)
    assert asked == []  # built before the services open, as the server's lifespan needs
    assert await verifier.verify_token(issued.token) is not None and asked == ["tokens"]
