"""Apply pending migrations in version order; each is recorded once in ``schema_migrations``.

Migrations are written to be idempotent on their own (they filter on what they change), so a crash between
applying and recording, or two processes migrating at once, leaves correct data. A migration reports what a user
must know (such as a renamed document) through ``report``, one line each.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.migrations import (
    m0001_characters_facefusion,
    m0002_clip_gallery_objects,
    m0003_name_keys,
    m0004_scene_clip_stats,
    m0005_model_keywords,
)
from mcp_storyboard.models.common import utc_now

MIGRATIONS_COLLECTION = "schema_migrations"
log = logging.getLogger("mcp_storyboard.migrations")
Report = Callable[[str], None]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[..., Awaitable[int]]


@dataclass(frozen=True)
class MigrationResult:
    version: int
    name: str
    changed: int
    """Documents changed (or, in a dry run, that would change)."""
    dry_run: bool


MIGRATIONS: tuple[Migration, ...] = (
    Migration(m0001_characters_facefusion.VERSION, m0001_characters_facefusion.NAME, m0001_characters_facefusion.apply),
    Migration(m0002_clip_gallery_objects.VERSION, m0002_clip_gallery_objects.NAME, m0002_clip_gallery_objects.apply),
    Migration(m0003_name_keys.VERSION, m0003_name_keys.NAME, m0003_name_keys.apply),
    Migration(m0004_scene_clip_stats.VERSION, m0004_scene_clip_stats.NAME, m0004_scene_clip_stats.apply),
    Migration(m0005_model_keywords.VERSION, m0005_model_keywords.NAME, m0005_model_keywords.apply),
)


async def _applied_versions(database: Database) -> set[int]:
    docs = database.collection(MIGRATIONS_COLLECTION).find({}, {"_id": 0, "version": 1})
    return {int(d["version"]) for d in await docs.to_list(None)}


async def pending_migrations(database: Database) -> list[Migration]:
    """Migrations not yet recorded as applied, in version order."""
    applied = await _applied_versions(database)
    return [m for m in sorted(MIGRATIONS, key=lambda m: m.version) if m.version not in applied]


async def apply_migrations(
    database: Database, *, dry_run: bool = False, report: Report = log.warning
) -> list[MigrationResult]:
    """Apply (or, with ``dry_run``, count) every pending migration and record each applied one; what a migration
    reports goes to ``report`` (by default the warning log, which reaches stderr, never a stdio protocol stream)."""
    results: list[MigrationResult] = []
    records = database.collection(MIGRATIONS_COLLECTION)
    if not dry_run:
        await records.create_index([("version", 1)], unique=True, name="version_1")
    for migration in await pending_migrations(database):
        changed = await migration.apply(database, dry_run=dry_run, report=report)
        results.append(MigrationResult(migration.version, migration.name, changed, dry_run))
        if not dry_run:
            await records.update_one(
                {"version": migration.version},
                {"$setOnInsert": {"version": migration.version, "name": migration.name, "applied_at": utc_now(), "changed": changed}},
                upsert=True,
            )
    return results
