"""The README and docs/ stand on their own: their links and the source files they name exist in the project."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_SOURCE_PATH = re.compile(r"`([\w.]+/[\w./]+\.(?:py|md|json|txt|toml))`")
"""A path with a folder in backticks (``server/build.py``); a bare file name may be anyone's."""


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_in_the_project(page: Path) -> None:
    links = [link for link in _LINK.findall(page.read_text()) if "://" not in link and not link.startswith("#")]
    broken = [link for link in links if not (page.parent / link.split("#", 1)[0]).resolve().is_file()]
    assert broken == []
    assert all((page.parent / link).resolve().is_relative_to(ROOT) for link in links), "a link leaves the project"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_project_file_a_page_names_exists(page: Path) -> None:
    named = {path for path in _SOURCE_PATH.findall(page.read_text()) if not path.startswith("../")}
    # Written from the project root (`tests/conftest.py`) or from inside the package (`server/build.py`).
    missing = sorted(p for p in named if not (ROOT / p).exists() and not (ROOT / "mcp_storyboard" / p).exists())
    assert missing == []


def test_the_architecture_page_is_linked_from_the_readme() -> None:
    assert "](docs/architecture.md)" in (ROOT / "README.md").read_text()
