from __future__ import annotations

import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.services.container import Services


@pytest.fixture
def services(db: Database) -> Services:
    """The services over the backend's indexed database."""
    return Services.over(db)
