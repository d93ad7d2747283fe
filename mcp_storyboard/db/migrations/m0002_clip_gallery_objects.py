"""0002: turn legacy plain-URL gallery entries on clips into objects with stable ids.

The original app's schema stored ``generated_images`` / ``generated_videos`` as URL strings. Reads already
accept them, but a selection is matched on ``<array>.id`` inside the database, which a string has not. Each
clip is rewritten with one conditional update on the array as it was read, so a concurrent change to that
clip is never overwritten (that clip is simply picked up by the next run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_storyboard.db.connection import Database
from mcp_storyboard.models.clips import GeneratedMedia

VERSION = 2
NAME = "clip_gallery_entries_as_objects"
ARRAYS = ("generated_images", "generated_videos")
_FILTER: dict[str, Any] = {"$or": [{array: {"$type": "string"}} for array in ARRAYS]}


def _as_objects(entries: list[Any]) -> list[Any]:
    return [GeneratedMedia.model_validate(e).model_dump(mode="python") if isinstance(e, str) else e for e in entries]


async def apply(database: Database, *, dry_run: bool, report: Callable[[str], None]) -> int:
    """Nothing to report: return how many clips change (dry run) or changed."""
    clips = database.collection("clips")
    if dry_run:
        return int(await clips.count_documents(_FILTER))
    changed = 0
    cursor = clips.find(_FILTER, {"_id": 0, "id": 1, **{a: 1 for a in ARRAYS}})
    async for clip in cursor:
        as_read = {a: clip[a] for a in ARRAYS if isinstance(clip.get(a), list)}
        result = await clips.update_one(
            {"id": clip["id"], **as_read}, {"$set": {a: _as_objects(entries) for a, entries in as_read.items()}}
        )
        changed += int(result.modified_count)
    return changed
