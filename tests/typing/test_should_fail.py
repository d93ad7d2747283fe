"""Type-level guarantees (STYLE.md #7): each snippet in should_fail/ must be rejected by mypy in its own lines;
should_pass/ holds the control that must check clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
FAIL = sorted((HERE / "should_fail").glob("*.py"))
PASS = sorted((HERE / "should_pass").glob("*.py"))


ROOT = HERE.parents[1]


def _errors_in(snippet: Path) -> list[str]:
    relative = str(snippet.relative_to(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--follow-imports=silent", "--ignore-missing-imports", relative],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    return [line for line in proc.stdout.splitlines() if line.startswith(relative) and ": error:" in line]


@pytest.mark.slow
@pytest.mark.parametrize("snippet", FAIL, ids=lambda p: p.stem)
def test_mypy_rejects_the_snippet(snippet: Path) -> None:
    assert _errors_in(snippet), f"mypy accepted {snippet.name}"


@pytest.mark.slow
@pytest.mark.parametrize("snippet", PASS, ids=lambda p: p.stem)
def test_mypy_accepts_the_control(snippet: Path) -> None:
    assert _errors_in(snippet) == []


@pytest.mark.slow
def test_the_package_type_checks_clean() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "mcp_storyboard"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:]
