"""search_models latency at 1k and 100k catalog entries on the embedded server, and the plan of its query (it must
read the keywords index, never scan the collection). Prints medians and ratios; asserts nothing.

    .venv/bin/python tests/benchmarks/bench_search_models.py [--sizes 1000 100000] [--rounds 30]

Each entry has a unique word (1 match), a word shared by 1 in 100 (1%), and one shared by 1 in 5 (20%). A search
reads the index range of its longest word, checks the rest in the repository and ranks in the service, so its cost
follows the matches of that word, not the catalog size; the 20% word at 100k reads 20,000 index hits (the scan cap).

Measured 2026-12-01 (2 shared cores, other test runs at once; medians in ms, 1k → 100k): one match 10.7 → 11.2;
1% 22.9 → 465 (1,000 matches read and ranked); 1% + type filter 15.4 → 354; 20% 106 → 3,431 (20,000 read, capped);
no words, by name 123 → 6,336. Every word query plans ``FETCH < IXSCAN keywords_1``; a regex on keywords plans
``COLLSCAN``. The no-words list is slow for a reason outside search: SecantusDB 0.7.0b3 answers any ``find`` with a
limit in time that grows with the collection (10k models: ``find({}).limit(51)`` 307 ms, sorted by the
``name_1_id_1`` index 478 ms), so every paginated list of this server shares it on the embedded backend.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import Database, open_database
from mcp_storyboard.db.embedded import EmbeddedServer
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.models.catalog import DatabaseModel
from mcp_storyboard.models.catalog_search import ModelFilter, keyword_range
from mcp_storyboard.services.models.service import ModelService

STYLES = ["photo", "anime", "cinematic", "painterly", "pixel"]


def entry(i: int) -> DatabaseModel:
    return DatabaseModel(
        id=f"model_{i:06d}.safetensors", name=f"Uniq{i:06d} Shared{i % 100:02d} {STYLES[i % 5]}",
        type="lora" if i % 3 else "checkpoint", path=f"loras/model_{i:06d}.safetensors", tags=[STYLES[i % 5]],
        description="A generated catalog entry for the search benchmark.",
    )


async def median_ms(call: Callable[[], Awaitable[object]], rounds: int) -> float:
    await call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


async def plan(database: Database, query: dict[str, object]) -> str:
    explained = await database.db.command("explain", {"find": "database_models", "filter": query},
                                          verbosity="queryPlanner")
    node = explained["queryPlanner"]["winningPlan"]
    stages = []
    while node:
        stages.append(node["stage"] + (f" {node['indexName']}" if "indexName" in node else ""))
        node = node.get("inputStage")
    return " < ".join(stages)


async def bench(uri: str, size: int, rounds: int) -> dict[str, float]:
    settings = Settings(mongodb_uri=uri, db_name=f"bench_search_{size}")
    database = await open_database(settings, uri=uri, backend="embedded")
    try:
        await database.client.drop_database(settings.db_name)
        await ensure_indexes(database)
        service = ModelService(database)
        start = time.perf_counter()
        for first in range(0, size, 1000):
            await service.repo.insert_many([entry(i) for i in range(first, min(size, first + 1000))])
        print(f"{size} entries inserted in {time.perf_counter() - start:.1f} s")
        for word in ("uniq000042", "shared07", "anime"):
            print(f"  plan for '{word}': {await plan(database, keyword_range(word, elem_match=False))}")
        print(f"  plan of a regex on keywords (not used): {await plan(database, {'keywords': {'$regex': '^uniq'}})}")
        raw = database.collection("database_models")
        all_ = ModelFilter()
        return {
            "1 match ('uniq000042')": await median_ms(lambda: service.search("uniq000042", all_, limit=50), rounds),
            "1% ('shared07')": await median_ms(lambda: service.search("shared07", all_, limit=50), rounds),
            "1% + filter ('shared07', lora)": await median_ms(
                lambda: service.search("shared07", ModelFilter(type="lora"), limit=50), rounds),
            "20% ('anime')": await median_ms(lambda: service.search("anime", all_, limit=50), max(3, rounds // 10)),
            "no words, by name": await median_ms(lambda: service.search("", all_, limit=50), rounds),
            "raw find_one by id": await median_ms(lambda: raw.find_one({"id": "model_000042.safetensors"}), rounds),
        }
    finally:
        await database.client.drop_database(settings.db_name)
        await database.close()


async def main(sizes: list[int], rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(Path(tmp))
        uri = await anyio.to_thread.run_sync(server.start)
        try:
            figures = {size: await bench(uri, size, rounds) for size in sizes}
        finally:
            await anyio.to_thread.run_sync(server.stop)
    print(f"\nembedded SecantusDB, search_models service, medians in ms ({rounds} rounds)")
    print(f"{'query':34}" + "".join(f"{size:>12}" for size in sizes) + f"{'ratio':>8}")
    for key in figures[sizes[0]]:
        values = [figures[size][key] for size in sizes]
        print(f"{key:34}" + "".join(f"{v:12.2f}" for v in values) + f"{values[-1] / values[0]:8.1f}")
    print(json.dumps({str(k): {q: round(v, 2) for q, v in f.items()} for k, f in figures.items()}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    anyio.run(main, args.sizes, args.rounds)
