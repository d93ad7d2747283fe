"""0003: store ``name_key`` on characters and style templates, make names unique per scope ignoring case, and
build the unique (project_id, name_key) indexes.

Per collection: read every document's id, scope (project_id; none for library templates), name and creation time;
set ``name_key`` where it is missing or stale; where names of one scope collide ignoring case, keep the oldest
(``created_at``, then id) and rename each later one ``Name (2)``, ``Name (3)``, ... (a suffix whose key is itself
free in the scope), reporting each rename; then build the index. Every write is conditional on the name as read,
so a concurrent rename is never overwritten; if a concurrent write slips a duplicate in before the index exists,
the index build fails and the pass runs again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError, OperationFailure

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.indexes import ALL_INDEXES, IndexSpec, create
from mcp_storyboard.errors import ConflictError
from mcp_storyboard.models.common import utc_now
from mcp_storyboard.models.values import name_key

VERSION = 3
NAME = "unique_name_keys"
COLLECTIONS = ("characters", "style_templates")
NAME_LIMIT = 200
"""The longest name (``models.values.Name``): a suffixed name is cut to fit."""
PASSES = 3
"""Passes before giving up on a collection whose names keep colliding with concurrent writes."""
DUPLICATE_KEY = 11000
Report = Callable[[str], None]


@dataclass(frozen=True)
class Named:
    """One stored document as the migration reads it."""

    id: str
    scope: str | None
    name: str
    stored_key: str | None
    created_at: datetime | None

    @property
    def key(self) -> str:
        # A stored name may carry the surrounding whitespace the model strips on reading.
        return name_key(self.name.strip())


@dataclass(frozen=True)
class Rename:
    """A later holder of a name taking a free suffixed one; ``kept`` keeps the name."""

    collection: str
    document: Named
    new_name: str
    kept: Named

    def describe(self, *, dry_run: bool) -> str:
        scope = f"project {self.document.scope}" if self.document.scope is not None else "the library"
        verb = "would rename" if dry_run else "renamed"
        return (
            f"{self.collection} in {scope}: {verb} '{self.document.name}' ({self.document.id}) to '{self.new_name}'; "
            f"'{self.kept.name}' ({self.kept.id}) is older and keeps its name"
        )


def suffixed(name: str, number: int) -> str:
    """``name (number)``, the name cut so that the result stays within the name limit."""
    suffix = f" ({number})"
    base = name.strip()[: NAME_LIMIT - len(suffix)].rstrip()
    return f"{base}{suffix}" if base else suffix.strip()


def plan(collection: str, documents: Iterable[Named]) -> tuple[list[Named], list[Rename]]:
    """The documents whose stored key is missing or stale (and are not renamed), and the renames that make every
    name of a scope unique ignoring case. Pure: the same documents always give the same plan."""
    groups: dict[tuple[str | None, str], list[Named]] = defaultdict(list)
    for document in documents:
        groups[(document.scope, document.key)].append(document)
    taken: dict[str | None, set[str]] = defaultdict(set)
    for scope, key in groups:
        taken[scope].add(key)
    renames: list[Rename] = []
    for (scope, _), holders in sorted(groups.items(), key=lambda item: (item[0][0] or "", item[0][1])):
        if len(holders) < 2:
            continue
        kept, *later = sorted(holders, key=_age)
        number = 2
        for document in later:
            while name_key(suffixed(document.name, number)) in taken[scope]:
                number += 1
            new_name = suffixed(document.name, number)
            taken[scope].add(name_key(new_name))
            renames.append(Rename(collection, document, new_name, kept))
    renamed = {rename.document.id for rename in renames}
    stale = [d for holders in groups.values() for d in holders if d.stored_key != d.key and d.id not in renamed]
    return stale, renames


def _age(document: Named) -> tuple[datetime, str]:
    # Documents without created_at predate it: the oldest.
    return (document.created_at or datetime.min).replace(tzinfo=None), document.id


async def apply(database: Database, *, dry_run: bool, report: Report) -> int:
    """Return how many documents change (dry run) or changed, reporting each rename.

    Raises:
        ConflictError: concurrent writes kept adding colliding names while the index was being built.
    """
    changed = 0
    for collection in COLLECTIONS:
        index = next(s for s in ALL_INDEXES if s.collection == collection and s.migration == VERSION)
        for last in [False] * (PASSES - 1) + [True]:
            stale, renames = plan(collection, await _read(database, collection))
            for rename in renames:
                report(rename.describe(dry_run=dry_run))
            if dry_run:
                changed += len(stale) + len(renames)
                break
            changed += await _write(database, collection, stale, renames)
            if await _built(database, index):
                break
            if last:
                raise ConflictError(
                    f"{collection}: names kept colliding ignoring case with concurrent writes while the unique "
                    f"index {index.name} was being built",
                    hint="run mcp-storyboard migrate again",
                )
    return changed


async def _read(database: Database, collection: str) -> list[Named]:
    projection = {"_id": 0, "id": 1, "project_id": 1, "name": 1, "name_key": 1, "created_at": 1}
    raws = await database.collection(collection).find({}, projection).to_list(None)
    return [
        Named(str(raw["id"]), raw.get("project_id"), str(raw.get("name") or ""), raw.get("name_key"),
              raw.get("created_at") if isinstance(raw.get("created_at"), datetime) else None)
        for raw in raws if "id" in raw
    ]  # fmt: skip


async def _write(database: Database, collection: str, stale: list[Named], renames: list[Rename]) -> int:
    now = utc_now()
    updates: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = [
        ({"id": d.id, "name": d.name}, {"$set": {"name_key": d.key}}) for d in stale
    ]
    updates += [
        ({"id": r.document.id, "name": r.document.name},
         {"$set": {"name": r.new_name, "name_key": name_key(r.new_name), "updated_at": now}})
        for r in renames
    ]  # fmt: skip
    if not updates:
        return 0
    target = database.collection(collection)
    result = await target.bulk_write([UpdateOne(dict(q), dict(u)) for q, u in updates], ordered=False)
    return int(result.modified_count)


async def _built(database: Database, index: IndexSpec) -> bool:
    """Build the unique index; False when names still collide (a concurrent write: read and fix again)."""
    try:
        await create(database, index)
    except DuplicateKeyError:
        return False
    except OperationFailure as exc:
        if exc.code != DUPLICATE_KEY:
            raise
        return False
    return True
