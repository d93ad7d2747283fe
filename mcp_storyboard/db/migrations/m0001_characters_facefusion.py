"""0001: give pre-FaceFusion characters the FaceFusion fields, exactly as DATABASE_SCHEMA.md's migration script."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_storyboard.db.connection import Database

VERSION = 1
NAME = "characters_facefusion_fields"
_FILTER: dict[str, Any] = {"facefusion_processing_history": {"$exists": False}}
_SET: dict[str, Any] = {
    "facefusion_processing_history": [],
    "facefusion_preferred_settings": None,
    "facefusion_output_gallery": {
        "enhanced_faces": [],
        "age_variants": {},
        "swapped_faces": [],
        "edited_expressions": [],
        "custom_outputs": [],
    },
}


async def apply(database: Database, *, dry_run: bool, report: Callable[[str], None]) -> int:
    """Nothing to report: return how many characters change (dry run) or changed."""
    characters = database.collection("characters")
    if dry_run:
        return int(await characters.count_documents(_FILTER))
    result = await characters.update_many(_FILTER, {"$set": _SET})
    return int(result.modified_count)
