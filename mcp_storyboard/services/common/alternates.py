"""Alternate naming and numbering rules, pure."""

from __future__ import annotations

NAME_MAX = 200


def alternate_name(original_name: str, number: int) -> str:
    """``"<original name> A<n>"``, trimmed so it stays within the 200-character name limit.

    Always built from the original's name, so an alternate of an alternate never gets a double suffix.
    """
    suffix = f" A{number}"
    return original_name[: NAME_MAX - len(suffix)].rstrip() + suffix


def counter_key(kind: str, original_id: str) -> str:
    """The ``counters`` key of an alternate family (``scene-alt:<id>`` / ``clip-alt:<id>``)."""
    return f"{kind}-alt:{original_id}"
