"""What start-up and ``init-db`` do to a database: create the missing indexes that need no pending migration (so
the migrations' queries by id use them), apply pending migrations, then create the rest.

A migration comes before an index that needs it: the unique (project_id, name_key) indexes of characters and
style templates cannot exist before migration 0003 backfilled ``name_key`` (documents without it would all collide
on a null key) and renamed names that collide ignoring case; that migration builds them itself. An old database
is therefore migrated on its first start rather than refused or served without unique names: a server started by
an MCP host has nobody to run a command, and serving without the indexes would let duplicates in again. Each
rename is reported (stderr at start-up), and ``migrate --dry-run`` lists them beforehand.
"""

from __future__ import annotations

from collections.abc import Callable

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.db.migrations import MigrationResult, apply_migrations, pending_migrations
from mcp_storyboard.db.migrations.runner import log


async def prepare_database(database: Database, *, report: Callable[[str], None] = log.warning) -> list[MigrationResult]:
    """Create missing indexes, applying pending migrations (each reporting what a user must know to ``report``)
    before the indexes they build; return the migrations applied.

    Raises:
        ConflictError: a migration could not finish because of concurrent writes (run it again).
    """
    pending = {migration.version for migration in await pending_migrations(database)}
    await ensure_indexes(database, deferred=pending)
    if not pending:  # the usual start: every index is in place now, and a second look costs a listing per collection
        return []
    migrations = await apply_migrations(database, report=report)
    await ensure_indexes(database)
    return migrations
