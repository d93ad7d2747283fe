"""Unique names ignoring case on the embedded backend: what a create and a rename cost with the unique name_key
index, against the raw insert and the case-insensitive regex lookup the former check-write-recheck ran twice per
create (so its cost is visible), in a project of ``--n`` characters; and how long migration 0003 takes on ``--n``
legacy characters, a tenth of them colliding. Prints medians and ratios; asserts nothing.

    .venv/bin/python -m tests.benchmarks.bench_unique_names [--n 10000] [--rounds 300]
"""

from __future__ import annotations

import argparse
import itertools
import re
import tempfile
import time
from pathlib import Path

import anyio

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.db.embedded import EmbeddedServer
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.db.migrations.m0003_name_keys import apply as migrate_names
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.characters import CharacterChanges
from mcp_storyboard.services.container import Services
from tests.benchmarks.bench_repositories import median_us


async def bench_writes(uri: str, n: int, rounds: int) -> dict[str, float]:
    database = await open_database(Settings(mongodb_uri=uri, db_name="bench_names"), uri=uri, backend="embedded")
    try:
        await database.client.drop_database("bench_names")
        await ensure_indexes(database)
        services = Services.over(database)
        pid = (await services.repositories.projects.insert(Project(name="Bench"))).id
        await services.repositories.characters.insert_many([Character(project_id=pid, name=f"Extra {i}") for i in range(n)])
        counter = itertools.count()
        raw = database.collection("characters")
        own = await services.characters.create(pid, "Renamed 0")
        names = itertools.cycle(["Renamed 1", "Renamed 0"])
        pattern = {"$regex": f"^{re.escape('extra 17')}$", "$options": "i"}
        return {
            "create (service, unique index)": await median_us(
                lambda: services.characters.create(pid, f"New {next(counter)}"), rounds
            ),
            "insert_one (raw driver)": await median_us(
                lambda: raw.insert_one({"id": f"raw-{next(counter)}", "project_id": "raw", "name_key": str(next(counter))}),
                rounds,
            ),
            "rename (service, one atomic update)": await median_us(
                lambda: services.characters.update(own.id, CharacterChanges(name=next(names))), rounds
            ),
            "case-insensitive regex lookup (old check)": await median_us(
                lambda: raw.find({"project_id": pid, "name": pattern}, {"_id": 0}).to_list(None), rounds
            ),
        }
    finally:
        await database.client.drop_database("bench_names")
        await database.close()


async def bench_migration(uri: str, n: int) -> tuple[float, int]:
    database = await open_database(Settings(mongodb_uri=uri, db_name="bench_migrate"), uri=uri, backend="embedded")
    try:
        await database.client.drop_database("bench_migrate")
        # 200 characters a project; every tenth repeats the one before it in capitals.
        legacy = [{"id": f"c{i}", "project_id": f"p{i // 200}", "name": f"NAME {i - 1}" if i % 10 == 0 else f"Name {i}"}
                  for i in range(1, n + 1)]  # fmt: skip
        await database.collection("characters").insert_many(legacy)
        await ensure_indexes(database, deferred={3})  # what start-up builds before the migration runs
        start = time.perf_counter()
        changed = await migrate_names(database, dry_run=False, report=lambda line: None)
        return time.perf_counter() - start, changed
    finally:
        await database.client.drop_database("bench_migrate")
        await database.close()


async def main(n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(Path(tmp))
        uri = server.start()
        try:
            writes = await bench_writes(uri, n, rounds)
            seconds, changed = await bench_migration(uri, n)
        finally:
            server.stop()
    print(f"embedded, a project of {n} characters, {rounds} rounds (median µs)")
    for label, value in writes.items():
        print(f"  {label:<44}{value:>10.0f}")
    base = writes["insert_one (raw driver)"]
    print(f"  create / raw insert: {writes['create (service, unique index)'] / base:.2f}x; the old create added "
          f"two regex lookups: +{2 * writes['case-insensitive regex lookup (old check)'] / base:.2f}x")
    print(f"migration 0003 on {n} legacy characters: {seconds:.2f} s, {changed} documents changed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    anyio.run(main, args.n, args.rounds)
