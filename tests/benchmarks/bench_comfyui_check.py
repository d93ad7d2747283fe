"""The cost of ``check_comfyui_server``'s service path on the embedded database against the fake ComfyUI (real HTTP
on 127.0.0.1): one check (read the server, GET /api/system_stats and the /api/object_info of the three capability
nodes on a new client, parse, one atomic status write) against the same GETs made and parsed directly on one
client (the floor), and against fetching and parsing the whole /api/object_info instead (what the check avoids).
``--nodes`` pads /object_info to a real install's size (about 480 node classes). Prints medians and the ratio;
asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_comfyui_check [--rounds 30] [--nodes 480]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import httpx2

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.db.embedded import EmbeddedServer
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.integrations.comfyui import CAPABILITY_NODES
from mcp_storyboard.services.container import Services
from tests.fakes.comfyui import FakeComfyUI, serve_fake_comfyui


async def median_ms(rounds: int, work: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def main(rounds: int, nodes: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir, serve_fake_comfyui(FakeComfyUI(extra_nodes=nodes)) as fake:
        server = EmbeddedServer(Path(data_dir) / "db")
        uri = server.start()
        try:
            database = await open_database(Settings(mongodb_uri=uri, db_name="bench_comfy"), uri=uri,
                                           backend="embedded")
            await ensure_indexes(database)
            services = Services.over(database)
            registered = await services.comfyui.register("Bench", fake.url)

            async def through_service() -> None:
                assert (await services.comfyui.check(registered.id)).status == "online"

            async with httpx2.AsyncClient(base_url=fake.url, trust_env=False, timeout=30) as http:

                paths = ["/api/system_stats", *(f"/api/object_info/{n}" for n in CAPABILITY_NODES)]

                async def direct() -> None:
                    for path in paths:
                        (await http.get(path)).json()

                async def whole_object_info() -> None:
                    (await http.get("/api/system_stats")).json()
                    (await http.get("/api/object_info")).json()

                await through_service()  # warm up
                await direct()
                size = len((await http.get("/api/object_info")).content)
                service_ms = await median_ms(rounds, through_service)
                direct_ms = await median_ms(rounds, direct)
                whole_ms = await median_ms(rounds, whole_object_info)
            print(f"object_info: {nodes + 11} node classes, {size / 1024:.0f} kB")
            print(f"{'direct GETs ms':>15} {'check ms':>9} {'ratio':>6} {'overhead ms':>12} {'whole object_info ms':>21}")
            print(f"{direct_ms:>15.1f} {service_ms:>9.1f} {service_ms / direct_ms:>6.2f} {service_ms - direct_ms:>12.1f} "
                  f"{whole_ms:>21.1f}")
            await database.close()
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--nodes", type=int, default=480)
    arguments = parser.parse_args()
    anyio.run(main, arguments.rounds, arguments.nodes)
