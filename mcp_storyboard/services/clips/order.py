"""Display-order rules for the clips of a scene, pure.

Every clip of a scene — main clips and alternates alike — has a dense ``order`` 0..n-1. An alternate is placed
right after its family (its original and the alternates before it); a moved clip takes its alternates along.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from mcp_storyboard.errors import ValidationError


def insert_block(ids: Sequence[str], block: Sequence[str], index: int | None) -> list[str]:
    """``ids`` with ``block`` inserted at ``index`` (None: at the end).

    Raises:
        ValidationError: ``index`` is outside 0..len(ids); the message gives the valid range.
    """
    if index is None:
        index = len(ids)
    if not 0 <= index <= len(ids):
        raise ValidationError(
            "order",
            f"{index} is outside 0..{len(ids)}",
            hint=f"the scene has {len(ids)} other clips; use 0 for first, {len(ids)} (or leave order out) for last",
        )
    return [*ids[:index], *block, *ids[index:]]


def family_block(ordered_ids: Sequence[str], members: Sequence[str]) -> list[str]:
    """The ``members`` (a clip and its alternates) in their current relative order; members not yet placed last."""
    wanted = set(members)
    placed = [i for i in ordered_ids if i in wanted]
    return placed + [m for m in members if m not in set(placed)]


def after_family(ordered_ids: Sequence[str], members: Sequence[str]) -> int:
    """The index just after the last member of a family in ``ordered_ids`` (the end when none is placed)."""
    wanted = set(members)
    positions = [n for n, i in enumerate(ordered_ids) if i in wanted]
    return positions[-1] + 1 if positions else len(ordered_ids)


def order_changes(current: Mapping[str, int], ordered_ids: Sequence[str]) -> list[tuple[str, int]]:
    """``(id, order)`` for the clips whose dense order 0..n-1 in ``ordered_ids`` differs from ``current``."""
    return [(cid, n) for n, cid in enumerate(ordered_ids) if current.get(cid) != n]


def check_exact_set(current: Sequence[str], given: Sequence[str], *, scene: str) -> None:
    """Refuse a reorder list that is not exactly the scene's clips, each once.

    Raises:
        ValidationError: on ``clip_ids``, naming the duplicates, the missing ids and the foreign ids.
    """
    problems: list[str] = []
    counts = Counter(given)
    duplicates = [c for c, n in counts.items() if n > 1]
    if duplicates:
        problems.append("listed twice: " + ", ".join(duplicates))
    missing = [c for c in current if c not in counts]
    if missing:
        problems.append("missing: " + ", ".join(missing))
    known = set(current)
    foreign = [c for c in counts if c not in known]
    if foreign:
        problems.append(f"not clips of scene {scene}: " + ", ".join(foreign))
    if problems:
        raise ValidationError(
            "clip_ids",
            "must list every clip of the scene exactly once (" + "; ".join(problems) + ")",
            hint=f"the scene's clips in their current order: {', '.join(current) or '(none)'}",
        )
