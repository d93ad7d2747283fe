"""0004: store each scene's clip numbers (``clip_stats``: how many clips, where its last main clip ends), which the
clip services keep from now on in the transaction of every change to a scene's clips.

Only scenes without them are filled, each in its own transaction that reads the scene's clips and writes the
numbers only if the scene still has none: a clip change committed meanwhile wrote them itself (and a change still
running conflicts with this write and is retried), so numbers are never overwritten with older ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_storyboard.db.connection import Database
from mcp_storyboard.models.clip_outline import STATS_FIELDS, SceneClipStats

VERSION = 4
NAME = "scene_clip_stats"
FIELD = "clip_stats"
_MISSING: dict[str, Any] = {FIELD: {"$exists": False}}


async def apply(database: Database, *, dry_run: bool, report: Callable[[str], None]) -> int:
    """Nothing to report: return how many scenes get their numbers (dry run) or got them."""
    scenes, clips = database.collection("scenes"), database.collection("clips")
    if dry_run:
        return int(await scenes.count_documents(_MISSING))
    ids = [raw["id"] for raw in await scenes.find(_MISSING, {"_id": 0, "id": 1}).to_list(None)]
    changed = 0
    for scene_id in ids:

        async def fill(session: Any, scene_id: str = scene_id) -> int:
            extra = {} if session is None else {"session": session}
            rows = await clips.find({"scene_id": scene_id}, {"_id": 0, **dict.fromkeys(STATS_FIELDS, 1)},
                                    **extra).to_list(None)  # fmt: skip
            stats = SceneClipStats.of_clips(scene_id, rows)
            numbers = {"clips": stats.clips, "main_end": stats.main_end}
            result = await scenes.update_one({"id": scene_id, **_MISSING}, {"$set": {FIELD: numbers}}, **extra)
            return int(result.modified_count)

        changed += await database.run_transaction(fill)
    return changed
