"""Keep each scene's stored clip numbers (count, where its last main clip ends) equal to its clips.

Every change to a scene's clips ends, in its own transaction, by recounting that scene's clips (one query on the
scene's index, never the project's) and writing the numbers onto the scene (``repositories/scenes.CLIP_STATS``).
The clip changes of one scene are serialised (``services/clips/serial.py``, ``services/common/parents.py``), so the
recount sees every committed change and no other; the project tree then reads a project's numbers with its
scenes instead of reading or counting its clips (at 10k clips, the refusal of a too-large tree and the tree
without clips). Without transactions (memory://, a standalone server) the numbers are written all the same, but
the tree does not rely on them (``ProjectService.tree``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories


async def recount_clips(repos: Repositories, scene_ids: Iterable[str], *, session: Any) -> None:
    """Store the clip numbers of ``scene_ids`` from their clips as ``session`` sees them."""
    for scene_id in sorted(set(scene_ids)):
        await repos.scenes.set_clip_stats(await repos.clips.stats_of_scene(scene_id, session=session), session=session)
