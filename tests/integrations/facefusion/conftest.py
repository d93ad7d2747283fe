"""A FaceFusion CLI runner over the fake ``tests/fakes/facefusion.py``, which records every run it gets."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.integrations.facefusion.runner import FaceFusionCliRunner
from mcp_storyboard.integrations.media_fetch import MediaFetcher

FAKE_FACEFUSION = Path(__file__).resolve().parents[2] / "fakes"
"""The folder holding the fake ``facefusion.py``: what FACEFUSION_PATH names in the tests."""


@dataclass
class FakeRuns:
    """What the fake FaceFusion was started with, and the progress the runner reported."""

    record: Path
    runs_dir: Path
    reports: list[float] = field(default_factory=list)

    def runs(self) -> list[dict]:
        if not self.record.exists():
            return []
        # Only whole lines: the fake may be writing its line while a test polls.
        *complete, _partial = self.record.read_text().split("\n")
        return [json.loads(line) for line in complete]

    def argv(self) -> list[str]:
        (run,) = self.runs()
        return list(run["argv"])

    async def report(self, progress: float) -> None:
        self.reports.append(progress)

    def leftovers(self) -> list[Path]:
        return list(self.runs_dir.iterdir()) if self.runs_dir.exists() else []


@pytest.fixture
def fake_runs(tmp_path: Path) -> FakeRuns:
    return FakeRuns(record=tmp_path / "record.jsonl", runs_dir=tmp_path / "runs")


@pytest.fixture
def make_runner(database: Database, fake_runs: FakeRuns) -> Callable[..., FaceFusionCliRunner]:
    """``make_runner(env={...}, timeout_s=..., fetcher=...)``: a runner over the fake with extra environment."""

    def make(*, env: dict[str, str] | None = None, timeout_s: float = 120.0, fetcher: MediaFetcher | None = None,
             python: str = sys.executable) -> FaceFusionCliRunner:
        environ = {**os.environ, "FAKE_FACEFUSION_RECORD": str(fake_runs.record), **(env or {})}
        return FaceFusionCliRunner(
            facefusion_path=FAKE_FACEFUSION, python=python, media=database.media, fetcher=fetcher or MediaFetcher(),
            timeout_s=timeout_s, temp_root=fake_runs.runs_dir, environ=environ,
        )  # fmt: skip

    return make


def is_gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for its reaper counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
