from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.indexes import ensure_indexes


@pytest.fixture
async def db(database: Database) -> AsyncIterator[Database]:
    """The backend's database with every index in place (unique violations need them)."""
    await ensure_indexes(database)
    yield database
