"""Authentication over Streamable HTTP, on real HTTP at 127.0.0.1 with the stored API tokens on the embedded
(wire-protocol) database: 401s with the spec's header and metadata, the admin-only toolset, --no-auth on loopback
only, Host/Origin (DNS-rebinding) protection, and a revocation seen at once by a second server on the database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import anyio
import anyio.abc
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.errors import ConfigError
from mcp_storyboard.models.common import utc_now
from mcp_storyboard.models.users import User
from mcp_storyboard.server import app
from mcp_storyboard.server.auth import HttpAuth
from mcp_storyboard.services.container import Services

from ..conftest import open_test_database

SETTINGS = Settings(mongodb_uri="memory://")
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "probe", "version": "1"}}}
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


@pytest.fixture
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """A fresh database on the embedded server (real wire protocol), with its indexes."""
    database = await open_test_database("embedded-pymongo", request)
    await ensure_indexes(database)
    try:
        yield database
    finally:
        await database.client.drop_database(database.db.name)
        await database.close()


@pytest.fixture
def services(db: Database) -> Services:
    return Services.over(db)


async def account(services: Services, name: str, *, admin: bool = False) -> User:
    return await services.users.repo.insert(User(username=name, email=f"{name}@example.com", hashed_password="x",
                                                 is_admin=admin))


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serving(services: Services, *, auth: bool = True, calls_per_minute: int = 600,
                  toolsets: Sequence[str] = ("storyboard", "users", "models", "generation")) -> AsyncIterator[str]:
    """A server with ``toolsets`` over ``services`` on a free loopback port; yields its base URL."""
    sock = free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"

    @asynccontextmanager
    async def factory() -> AsyncIterator[Services]:
        yield services

    server = app.create_server(SETTINGS, toolsets=list(toolsets), services_factory=factory,  # type: ignore[arg-type]
                               transport="http",
                               auth=HttpAuth(base, calls_per_minute=calls_per_minute) if auth else None)
    http = app.http_server(server, "127.0.0.1", sock.getsockname()[1], authenticated=auth)
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(http.serve, [sock])
            while not http.started:
                await anyio.sleep(0.02)
            try:
                yield base
            finally:
                http.should_exit = True


def client(base: str, token: str | None, mode: str = "auto") -> Client:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return Client(streamable_http_client(f"{base}/mcp", http_client=httpx2.AsyncClient(headers=headers)),
                  mode=mode, cache=None)


async def post(base: str, token: str | None = None, **headers: str) -> httpx2.Response:
    sent = {**MCP_HEADERS, **headers, **({} if token is None else {"authorization": f"Bearer {token}"})}
    async with httpx2.AsyncClient() as http:
        return await http.post(f"{base}/mcp", json=INIT, headers=sent)


async def test_no_token_gets_401_with_the_header_and_the_metadata_it_points_to(services: Services) -> None:
    async with serving(services) as base:
        refused = await post(base)
        async with httpx2.AsyncClient() as http:
            metadata = await http.get(f"{base}/.well-known/oauth-protected-resource/mcp")
    assert refused.status_code == 401
    challenge = refused.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"' in challenge
    assert metadata.status_code == 200
    assert metadata.json()["resource"] == f"{base}/mcp" and metadata.json()["scopes_supported"] == ["storyboard"]


async def test_bad_expired_revoked_and_disabled_tokens_get_401(services: Services) -> None:
    alice, bob = await account(services, "alice"), await account(services, "bob")
    tokens = services.users.tokens
    good = await tokens.create(alice.id, "laptop")
    revoked = await tokens.create(alice.id, "old")
    await tokens.revoke(revoked.record.id)
    expiring = await tokens.create(alice.id, "brief", expires_at=utc_now() + timedelta(hours=1))
    disabled = await tokens.create(bob.id, "bob's")
    await services.users.set_active(bob.id, False)
    async with serving(services) as base:
        assert (await post(base, good.token)).status_code == 200  # the control: the same request is served
        statuses = {name: (await post(base, token)).status_code for name, token in (
            ("malformed", "not-a-token"), ("wrong secret", good.token[:-2] + "xx"),
            ("revoked", revoked.token), ("disabled owner", disabled.token))}
        tokens.clock = lambda: utc_now() + timedelta(hours=2)
        statuses["expired"] = (await post(base, expiring.token)).status_code
    assert statuses == dict.fromkeys(statuses, 401)


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-era requests and 2025-era sessions
async def test_a_good_token_lists_and_calls_tools_and_only_an_admin_may_use_the_users_toolset(
    services: Services, mode: str,
) -> None:
    alice, root = await account(services, "alice"), await account(services, "root", admin=True)
    user_token = (await services.users.tokens.create(alice.id, "laptop")).token
    admin_token = (await services.users.tokens.create(root.id, "ops")).token
    async with serving(services) as base:
        async with client(base, user_token, mode) as as_user:
            names = {tool.name for tool in (await as_user.list_tools()).tools}
            created = await as_user.call_tool("create_project", {"name": "Alice's video"})
            refused = [await as_user.call_tool(name, args) for name, args in (
                ("list_users", {}), ("get_user", {"user_id": root.id}),
                ("deactivate_user", {"user_id": root.id}),
                ("create_model", {"model_id": "x.safetensors", "name": "X", "type": "checkpoint"}),
                ("register_comfyui_server", {"name": "GPU", "url": "http://127.0.0.1:9"}))]
            searched = await as_user.call_tool("search_models", {})
        async with client(base, admin_token, mode) as as_admin:
            listed = await as_admin.call_tool("list_users", {})
    assert {"create_project", "list_users"} <= names
    assert not created.is_error and not searched.is_error  # reading the shared catalog is for everyone
    for result in refused:
        assert result.is_error and result.content[0].text.startswith("[forbidden] ")
        assert "admins only" in result.content[0].text and "alice is not an admin" in result.content[0].text
    assert (await services.users.repo.get(root.id)).is_active  # the refused deactivate_user changed nothing
    assert await services.models.repo.count() == 0 and (await services.comfyui.list_page()).items == []
    assert not listed.is_error and listed.structured_content is not None
    assert {u["username"] for u in listed.structured_content["items"]} == {"alice", "root"}


async def test_no_auth_serves_loopback_callers_as_the_local_admin(services: Services) -> None:
    await account(services, "alice")
    async with serving(services, auth=False) as base, client(base, None) as local:
        listed = await local.call_tool("list_users", {})
    assert not listed.is_error


def test_no_auth_is_refused_off_loopback_and_allowed_on_it() -> None:
    with pytest.raises(ConfigError, match="--no-auth is allowed on loopback only"):
        app.serve(SETTINGS, transport="http", host="0.0.0.0", no_auth=True)
    app.check_http_host("127.0.0.1", authenticated=False)
    app.check_http_host("0.0.0.0", authenticated=True)  # with tokens any address may be bound


def test_a_public_bind_needs_the_host_names_it_answers_to() -> None:
    with pytest.raises(ConfigError, match="needs --allowed-host"):
        app.serve(SETTINGS, transport="http", host="0.0.0.0")
    security = app.transport_security("0.0.0.0", ["storyboard.example.com"])
    assert security.enable_dns_rebinding_protection
    assert security.allowed_hosts == ["storyboard.example.com"]
    assert "https://storyboard.example.com" in security.allowed_origins
    assert app.public_url_of("0.0.0.0", 8765, ["storyboard.example.com"]) == "http://storyboard.example.com:8765"
    assert app.public_url_of("0.0.0.0", 8765, ["10.0.0.5:80"]) == "http://10.0.0.5:80"


@pytest.mark.parametrize("auth", [True, False])
async def test_a_foreign_host_or_origin_is_refused_even_with_a_good_token(services: Services, auth: bool) -> None:
    alice = await account(services, "alice")
    token = (await services.users.tokens.create(alice.id, "laptop")).token if auth else None
    async with serving(services, auth=auth) as base:
        port = base.rsplit(":", 1)[1]
        served = await post(base, token, origin=f"http://localhost:{port}")
        foreign_host = await post(base, token, host="evil.example")
        foreign_origin = await post(base, token, origin="http://evil.example")
    assert served.status_code == 200
    assert foreign_host.status_code == 421 and foreign_origin.status_code == 403


def free_port() -> int:
    with free_socket() as sock:
        return int(sock.getsockname()[1])


async def started(base: str, process: anyio.abc.Process) -> None:
    """Wait until the server answers (its metadata route needs no token)."""
    async with httpx2.AsyncClient() as http:
        while True:
            assert process.returncode is None, "the server exited"
            try:
                if (await http.get(f"{base}/.well-known/oauth-protected-resource/mcp")).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            await anyio.sleep(0.1)


async def test_a_token_revoked_through_one_server_process_is_refused_by_another_at_once(
    services: Services, db: Database, request: pytest.FixtureRequest, tmp_path: Path,
) -> None:
    # Two `serve --transport http` processes on one embedded database, as behind a load balancer.
    uri = request.getfixturevalue("embedded_uri")
    alice = await account(services, "alice")
    issued = await services.users.tokens.create(alice.id, "laptop")
    ports = [free_port(), free_port()]
    processes = [await anyio.open_process(
        [sys.executable, "-m", "mcp_storyboard", "serve", "--transport", "http", "--port", str(port),
         "--mongodb-uri", uri, "--db-name", db.db.name],
        env={**os.environ, "STORYBOARD_DATA_DIR": str(tmp_path)}, stdout=subprocess.DEVNULL,
        stderr=None) for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        with anyio.fail_after(120):
            for base, process in zip(bases, processes, strict=True):
                await started(base, process)
            before = [(await post(base, issued.token)).status_code for base in bases]
            # `mcp-storyboard tokens revoke` writes through the database as the server processes read it
            await services.users.tokens.revoke(issued.record.id)
            after = [(await post(base, issued.token)).status_code for base in bases]
    finally:
        with anyio.fail_after(30):
            for process in processes:
                process.terminate()
                await process.wait()
    assert before == [200, 200] and after == [401, 401]


def test_the_serve_command_refuses_no_auth_off_loopback_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from mcp_storyboard.cli import main

    code = main(["serve", "--mongodb-uri", "memory://", "--transport", "http", "--host", "0.0.0.0", "--no-auth"])
    assert code == 2
    assert "--host 0.0.0.0 is not a loopback address; --no-auth is allowed on loopback only" in capsys.readouterr().err


def test_admins_alone_change_accounts_and_what_every_user_shares() -> None:
    from mcp_storyboard.server.auth import is_admin_only
    from mcp_storyboard.server.registry import discover

    admin_only = {s.name for s in discover().tools if is_admin_only(s.name, s.toolset, s.operation)}
    assert admin_only == {
        "list_users", "get_user", "create_user", "update_user", "deactivate_user",
        "create_model", "update_model", "delete_model", "set_model_active", "set_inference_preset",
        "sync_civitai_models", "import_civitai_model",
        "register_comfyui_server", "update_comfyui_server", "delete_comfyui_server", "check_comfyui_server",
    }


async def test_a_request_body_over_4_mib_is_refused_with_413_and_a_smaller_one_is_served(services: Services) -> None:
    alice = await account(services, "alice")
    token = (await services.users.tokens.create(alice.id, "laptop")).token
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
               "Content-Type": "application/json"}
    async with serving(services) as base, httpx2.AsyncClient(headers=headers, timeout=60) as http:
        huge = await http.post(f"{base}/mcp", content=b" " * (4 * 1024 * 1024 + 1))
        served = await http.post(f"{base}/mcp", json=INIT)
    assert huge.status_code == 413
    assert served.status_code == 200


async def test_a_token_over_its_calls_a_minute_is_refused_until_the_minute_ends(services: Services) -> None:
    alice = await account(services, "alice")
    token = (await services.users.tokens.create(alice.id, "laptop")).token
    other = (await services.users.tokens.create(alice.id, "desktop")).token
    async with serving(services, calls_per_minute=2) as base:
        async with client(base, token) as first:
            results = [await first.call_tool("list_projects", {}) for _ in range(3)]
        async with client(base, other) as second:  # the limit is per token
            fresh = await second.call_tool("list_projects", {})
    assert [r.is_error for r in results] == [False, False, True]
    refusal = results[2].content[0].text  # type: ignore[union-attr]
    assert refusal.startswith("[rate-limited] this API token made 3 tool calls this minute; the limit is 2")
    assert "STORYBOARD_RATE_LIMIT" in refusal
    assert not fresh.is_error
