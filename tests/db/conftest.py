"""Fixtures for the embedded server's process handling: an unrelated live process, and a machine without /proc."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def unrelated_process() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that is not a database server (what a reused pid in a stale file points at)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(params=["with-proc", "without-proc"])
def proc_view(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test as on Linux, and again with /proc hidden from our code, as on macOS (psutil keeps working)."""
    if request.param == "without-proc":
        real_exists = Path.exists

        def exists(self: Path, *args: object, **kwargs: object) -> bool:
            return False if str(self).startswith("/proc") else real_exists(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Path, "exists", exists)
    return str(request.param)
