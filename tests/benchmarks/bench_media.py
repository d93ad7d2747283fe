"""Media figures, one run on the embedded database (GridFS): upload_media through an in-process MCP client
against a direct media-store put of the same bytes (the cost of base64, content sniffing and MCP), reading a file
back as a resource blob, and sniffing alone. Prints figures and ratios; asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_media [--rounds 5]
"""

from __future__ import annotations

import argparse
import base64
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from mcp import Client

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.db.embedded import EmbeddedServer
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.models.media_types import check_content
from mcp_storyboard.models.projects import Project
from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.taxonomy import TOOLSETS
from mcp_storyboard.services.container import Services
from tests.media_samples import png

SIZES = (100_000, 1_000_000, 2_900_000)


async def best_ms(rounds: int, work: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        server = EmbeddedServer(Path(data_dir))
        uri = server.start()
        try:
            database = await open_database(Settings(mongodb_uri=uri, db_name="bench_media"), uri=uri, backend="embedded")
            await ensure_indexes(database)
            services = Services.over(database)
            project = await services.repositories.projects.insert(Project(name="Bench"))

            @asynccontextmanager
            async def factory() -> AsyncIterator[Services]:
                yield services

            async with Client(build_server(factory, toolsets=TOOLSETS)) as client:
                print(f"{'size':>10} {'store.put ms':>13} {'upload_media ms':>16} {'ratio':>6} {'read blob ms':>13} {'sniff ms':>9}")
                for size in SIZES:
                    data = png(1) + b"\x00" * (size - len(png(1)))
                    encoded = base64.b64encode(data).decode()
                    direct = await best_ms(rounds, lambda: database.media.put(data, content_type="image/png",
                                                                              project_id=project.id))
                    args = {"project_id": project.id, "filename": "b.png", "mime_type": "image/png",
                            "content_base64": encoded}
                    via_mcp = await best_ms(rounds, lambda: client.call_tool("upload_media", args))
                    stored = await database.media.put(data, content_type="image/png", project_id=project.id)
                    read = await best_ms(rounds, lambda: client.read_resource(f"storyboard://media/{stored.id}"))
                    start = time.perf_counter()
                    check_content(data, "image/png")
                    sniff = (time.perf_counter() - start) * 1000
                    print(f"{size:>10} {direct:>13.1f} {via_mcp:>16.1f} {via_mcp / direct:>6.1f} {read:>13.1f} {sniff:>9.2f}")
            await database.client.drop_database("bench_media")
            await database.close()
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    anyio.run(main, parser.parse_args().rounds)
