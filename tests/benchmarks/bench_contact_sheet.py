"""Contact-sheet figures: render time and peak memory for a project of 100 clips, each with its own 1920×1080
image (JPEG, and PNG; and 3840×2160 JPEGs, to show the peak does not grow with the frames' size), every page of the sheet at the default layout (4 columns of 320 px, 6 rows a page: 5
pages). Each variant runs in a child process; "extra peak" is the highest resident memory sampled (every 2 ms)
while rendering, above the resident memory just before it (the encoded images themselves are held in memory://'s
media store, and counted in neither). The no-draft variant turns Pillow's ``draft`` off, to show what decoding JPEGs small saves. Prints figures
and ratios; asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_contact_sheet [--clips 100]
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import gc
import subprocess
import sys
import threading
import time

import anyio
import psutil
from PIL import Image

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.models.clips import Clip, GeneratedMedia
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.sheets import SheetOptions

VARIANTS = ("jpeg", "jpeg-no-draft", "png", "jpeg-4k")
SIZE = (1920, 1080)
SIZE_4K = (3840, 2160)


class PeakSampler:
    """The highest resident memory of this process while the block runs, sampled on a thread."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._stop = threading.Event()
        self.start_mb = self.peak_mb = 0.0

    def _rss_mb(self) -> float:
        return float(self._process.memory_info().rss) / 2**20

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak_mb = max(self.peak_mb, self._rss_mb())

    def __enter__(self) -> PeakSampler:
        gc.collect()
        self.start_mb = self.peak_mb = self._rss_mb()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss_mb())

    @property
    def extra_mb(self) -> float:
        return self.peak_mb - self.start_mb


@functools.cache
def _layers(size: tuple[int, int]) -> tuple[Image.Image, Image.Image]:
    return Image.linear_gradient("L").resize(size), Image.effect_noise(size, 24)


def frame(number: int, fmt: str, size: tuple[int, int] = SIZE) -> bytes:
    """A frame with a gradient and grain (compresses like a picture, not like a flat colour), tinted per clip."""
    gradient, grain = _layers(size)
    image = Image.merge("RGB", (gradient, grain, Image.new("L", size, (number * 37) % 256)))
    out = io.BytesIO()
    image.save(out, format=fmt, **({"quality": 88} if fmt == "JPEG" else {}))
    return out.getvalue()


async def child(variant: str, clips: int) -> dict[str, float]:
    if variant == "jpeg-no-draft":
        Image.Image.draft = lambda self, mode, size: None  # type: ignore[method-assign,assignment,return-value]
    fmt = "PNG" if variant == "png" else "JPEG"
    size = SIZE_4K if variant == "jpeg-4k" else SIZE
    database = await open_database(Settings(mongodb_uri="memory://", db_name="bench_sheets"))
    services = Services.over(database)
    project = await services.repositories.projects.insert(Project(name="Benchmark"))
    scenes = [await services.repositories.scenes.insert(Scene(project_id=project.id, name=f"Scene {i}", order=i))
              for i in range(10)]
    stored = 0
    for i in range(clips):
        data = frame(i, fmt, size)
        stored += len(data)
        info = await database.media.put(data, content_type=f"image/{fmt.lower()}", project_id=project.id)
        entry = GeneratedMedia(url=info.uri, media_id=info.id)
        await services.repositories.clips.insert(Clip(
            project_id=project.id, scene_id=scenes[i % 10].id, name=f"Shot {i}", timeline_position=(i // 10) * 5.0,
            generated_images=[entry], selected_image_id=entry.id))  # fmt: skip
    with PeakSampler() as memory:
        start = time.perf_counter()
        first = await services.sheets.render(project.id, SheetOptions())
        first_ms = (time.perf_counter() - start) * 1000
        for page in range(2, first.pages + 1):
            await services.sheets.render(project.id, SheetOptions(page=page))
        total_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    await services.sheets.render(project.id, SheetOptions())
    cached_ms = (time.perf_counter() - start) * 1000
    return {"pages": first.pages, "first_page_ms": first_ms, "all_pages_ms": total_ms, "cached_ms": cached_ms,
            "extra_peak_mb": memory.extra_mb, "stored_mb": stored / 1e6,
            "png_kb": len(first.png) / 1024}


def main(clips: int) -> None:
    results: dict[str, dict[str, float]] = {}
    for variant in VARIANTS:
        out = subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_contact_sheet", "--child", variant,
                              "--clips", str(clips)], check=True, capture_output=True, text=True)
        results[variant] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"contact sheet, {clips} clips of {SIZE[0]}x{SIZE[1]} images (jpeg-4k: {SIZE_4K[0]}x{SIZE_4K[1]}), "
          "4 columns x 320 px")
    print(f"{'variant':<15}{'pages':>6}{'page 1 ms':>11}{'all ms':>9}{'ms/clip':>9}{'cached ms':>11}"
          f"{'extra peak MB':>15}{'images MB':>11}{'page KB':>9}")
    for variant, r in results.items():
        print(f"{variant:<15}{r['pages']:>6.0f}{r['first_page_ms']:>11.0f}{r['all_pages_ms']:>9.0f}"
              f"{r['all_pages_ms'] / clips:>9.1f}{r['cached_ms']:>11.1f}{r['extra_peak_mb']:>15.1f}"
              f"{r['stored_mb']:>11.1f}{r['png_kb']:>9.0f}")
    jpeg, naive = results["jpeg"], results["jpeg-no-draft"]
    print(f"draft vs full decode: {naive['all_pages_ms'] / jpeg['all_pages_ms']:.1f}x faster, "
          f"extra peak {jpeg['extra_peak_mb']:.1f} MB vs {naive['extra_peak_mb']:.1f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=100)
    parser.add_argument("--child", choices=VARIANTS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(anyio.run(child, args.child, args.clips)))
    else:
        main(args.clips)
