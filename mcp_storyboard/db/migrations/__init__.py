"""Versioned data migrations, recorded in ``schema_migrations``; see :mod:`.runner`."""

from mcp_storyboard.db.migrations.runner import (
    MIGRATIONS,
    Migration,
    MigrationResult,
    apply_migrations,
    pending_migrations,
)

__all__ = ["MIGRATIONS", "Migration", "MigrationResult", "apply_migrations", "pending_migrations"]
