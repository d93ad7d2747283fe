"""The FaceFusion runner's own cost, on the embedded database (GridFS) with the fake ``facefusion.py``: one
operation through ``FaceFusionCliRunner`` (stage the input from the media store, spawn, parse, store the output,
remove the directory) against spawning the same fake with the same arguments directly (the floor: a Python
start-up). Prints medians and the ratio; asserts nothing. Real FaceFusion runs take seconds to minutes, so the
runner's overhead is what matters here, not the absolute figure.

    .venv/bin/python -m tests.benchmarks.bench_facefusion_runner [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.db.embedded import EmbeddedServer
from mcp_storyboard.integrations.facefusion.arguments import command_line, plan_operation
from mcp_storyboard.integrations.facefusion.runner import FaceFusionCliRunner
from mcp_storyboard.integrations.media_fetch import MediaFetcher
from mcp_storyboard.models.facefusion_jobs import FaceFusionOperation
from tests.media_samples import png

FAKE = Path(__file__).resolve().parents[1] / "fakes"


async def median_ms(rounds: int, work: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        server = EmbeddedServer(Path(data_dir) / "db")
        uri = server.start()
        try:
            database = await open_database(Settings(mongodb_uri=uri, db_name="bench_ff"), uri=uri, backend="embedded")
            image = png(256, 256)
            info = await database.media.put(image, content_type="image/png", filename="face.png", project_id="p")
            operation = FaceFusionOperation(operation_type="enhance", input_image_url=f"storyboard://media/{info.id}")
            runner = FaceFusionCliRunner(facefusion_path=FAKE, python=sys.executable, media=database.media,
                                         fetcher=MediaFetcher(), timeout_s=120)

            async def nothing(progress: float) -> None:
                pass

            async def through_runner() -> None:
                result = await runner.run_operation(operation, index=0, project_id="p", report=nothing)
                assert result.success, result.error

            work = Path(data_dir) / "direct"
            work.mkdir()
            (work / "target.png").write_bytes(image)
            argv = command_line(plan_operation(operation), python=sys.executable, script=FAKE / "facefusion.py",
                                target_path=work / "target.png", output_path=work / "output.png", source_path=None,
                                execution_providers=("cpu",), temp_dir=work)

            async def direct_spawn() -> None:
                process = await asyncio.create_subprocess_exec(*argv, cwd=FAKE, stdout=asyncio.subprocess.DEVNULL,
                                                               stderr=asyncio.subprocess.DEVNULL)
                assert await process.wait() == 0

            async def store_round_trip() -> None:  # what the runner adds besides the process: read input, put output
                await database.media.get(info.id)
                await database.media.put(image, content_type="image/png", filename="out.png", project_id="p")

            await through_runner()  # warm up: imports, GridFS indexes
            runner_ms = await median_ms(rounds, through_runner)
            direct_ms = await median_ms(rounds, direct_spawn)
            store_ms = await median_ms(rounds, store_round_trip)
            print(f"{'direct spawn ms':>16} {'runner ms':>10} {'ratio':>6} {'overhead ms':>12} {'of it, media get+put ms':>24}")
            print(f"{direct_ms:>16.1f} {runner_ms:>10.1f} {runner_ms / direct_ms:>6.2f} {runner_ms - direct_ms:>12.1f} "
                  f"{store_ms:>24.1f}")
            await database.close()
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    anyio.run(main, parser.parse_args().rounds)
