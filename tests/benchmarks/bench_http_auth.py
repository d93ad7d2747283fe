"""What bearer-token authentication costs over Streamable HTTP on the embedded backend, in one run: the median
latency of one ``list_projects`` call through the MCP client against a server with auth and one with ``--no-auth``
(both on 127.0.0.1, same services), then calls per second with 8 concurrent authenticated clients, then what
per-project authorization costs: ``get_clip`` and ``list_projects`` by a user who owns 50 projects (scoped to
them) against an admin (unscoped), same server. Prints medians, the ratios and the throughput; asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_http_auth [--rounds 200] [--clients 8] [--calls 50]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.db.embedded import EmbeddedServer
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.services.clips.results import NewClip
from mcp_storyboard.models.users import User
from mcp_storyboard.server import app
from mcp_storyboard.server.auth import HttpAuth
from mcp_storyboard.services.container import Services


@asynccontextmanager
async def serving(services: Services, *, auth: bool) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"

    @asynccontextmanager
    async def factory() -> AsyncIterator[Services]:
        yield services

    server = app.create_server(Settings(mongodb_uri="memory://"), services_factory=factory, transport="http",
                               auth=HttpAuth(base, calls_per_minute=0) if auth else None)  # no rate limit here
    http = app.http_server(server, "127.0.0.1", sock.getsockname()[1], authenticated=auth)
    async with anyio.create_task_group() as tg:
        tg.start_soon(http.serve, [sock])
        while not http.started:
            await anyio.sleep(0.02)
        try:
            yield base
        finally:
            http.should_exit = True


def client(base: str, token: str | None) -> Client:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return Client(streamable_http_client(f"{base}/mcp", http_client=httpx2.AsyncClient(headers=headers)),
                  cache=None)


async def median_ms(base: str, token: str | None, rounds: int, tool: str = "list_projects",
                    arguments: dict[str, Any] | None = None) -> float:
    times = []
    async with client(base, token) as mcp:
        for _ in range(rounds):
            start = time.perf_counter()
            result = await mcp.call_tool(tool, arguments or {})
            times.append((time.perf_counter() - start) * 1000)
            assert not result.is_error, result.content
    return statistics.median(times)


async def throughput(base: str, token: str, clients: int, calls: int) -> float:
    async def one() -> None:
        async with client(base, token) as mcp:
            for _ in range(calls):
                await mcp.call_tool("list_projects", {})

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(clients):
            tg.start_soon(one)
    return clients * calls / (time.perf_counter() - start)


async def main(rounds: int, clients: int, calls: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        embedded = EmbeddedServer(Path(data_dir) / "db")
        uri = embedded.start()
        try:
            settings = Settings(mongodb_uri=uri, db_name="bench_http_auth", data_dir=Path(data_dir))
            database = await open_database(settings, uri=uri, backend="embedded")
            await ensure_indexes(database)
            services = Services.over(database)
            user = await services.users.repo.insert(User(username="bench", email="bench@example.com",
                                                         hashed_password="x"))
            token = (await services.users.tokens.create(user.id, "bench")).token
            root = await services.users.repo.insert(User(username="root", email="root@example.com",
                                                         hashed_password="x", is_admin=True))
            admin_token = (await services.users.tokens.create(root.id, "bench")).token
            for n in range(50):
                project = await services.projects.create(f"Project {n}", owner_id=user.id)
            scene = await services.scenes.create(project.id, name="Scene")
            clip = (await services.clips.create(scene.id, NewClip(name="Shot", duration=2))).id
            async with serving(services, auth=True) as with_auth, serving(services, auth=False) as without:
                await median_ms(with_auth, token, 5)  # warm both paths
                await median_ms(without, None, 5)
                authed = await median_ms(with_auth, token, rounds)
                open_ = await median_ms(without, None, rounds)
                per_second = await throughput(with_auth, token, clients, calls)
                scoped = {tool: await median_ms(with_auth, token, rounds, tool, arguments)
                          for tool, arguments in (("get_clip", {"clip_id": clip}), ("list_projects", {}))}
                unscoped = {tool: await median_ms(with_auth, admin_token, rounds, tool, arguments)
                            for tool, arguments in (("get_clip", {"clip_id": clip}), ("list_projects", {}))}
            await database.close()
        finally:
            embedded.stop()
    print(f"list_projects over HTTP, median of {rounds}: with auth {authed:.2f} ms, --no-auth {open_:.2f} ms, "
          f"ratio {authed / open_:.2f}")
    print(f"{clients} concurrent authenticated clients x {calls} calls: {per_second:.0f} calls/s")
    for tool in scoped:
        print(f"{tool}, median of {rounds}: owner-scoped user {scoped[tool]:.2f} ms, admin {unscoped[tool]:.2f} ms, "
              f"ratio {scoped[tool] / unscoped[tool]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--calls", type=int, default=50)
    arguments = parser.parse_args()
    anyio.run(main, arguments.rounds, arguments.clients, arguments.calls)
