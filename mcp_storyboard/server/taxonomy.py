"""The operation taxonomy: one kind per tool drives its annotations, read-only mode and toolsets.

Every tool declares an :data:`Operation` and a :data:`Toolset`. Nothing else decides what a client is told about
a tool (``readOnlyHint``, ``destructiveHint``, ``idempotentHint``, ``openWorldHint``) or whether the tool is
registered at all under ``--read-only`` / ``--toolsets``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

from mcp.types import ToolAnnotations

from mcp_storyboard.errors import ConfigError

Operation = Literal["read", "create", "update", "delete", "admin", "external"]
OPERATIONS: tuple[Operation, ...] = get_args(Operation)

Toolset = Literal["storyboard", "characters", "styles", "facefusion", "models", "generation", "users"]
TOOLSETS: tuple[Toolset, ...] = get_args(Toolset)
DEFAULT_TOOLSETS: frozenset[Toolset] = frozenset(t for t in TOOLSETS if t != "users")

# (readOnly, destructive, idempotent, openWorld) per operation. Spelled out in full so the catalog shows every
# hint: the spec's defaults (destructive and open-world true) are the opposite of what most of our tools do.
_HINTS: dict[Operation, tuple[bool, bool, bool, bool]] = {
    "read": (True, False, True, False),
    "create": (False, False, False, False),
    "update": (False, False, False, False),
    "delete": (False, True, True, False),
    # Admin work (users, migrations) is treated as destructive until a spec says otherwise: fail closed.
    "admin": (False, True, False, False),
    "external": (False, False, False, True),
}


def annotations_for(
    operation: Operation, *, idempotent: bool | None = None, destructive: bool | None = None
) -> ToolAnnotations:
    """The MCP tool annotations of an operation kind.

    ``idempotent`` and ``destructive`` override the kind's default where a tool knows better (an update that
    overwrites a whole field list is destructive; a "set" is idempotent). A read is never destructive.

    Raises:
        ValueError: ``operation`` is not an :data:`Operation`, or a read is declared destructive.
    """
    if operation not in _HINTS:
        raise ValueError(f"unknown operation {operation!r}; operations: {', '.join(OPERATIONS)}")
    read_only, default_destructive, default_idempotent, open_world = _HINTS[operation]
    if read_only and destructive:
        raise ValueError("a read operation cannot be destructive")
    return ToolAnnotations(
        read_only_hint=read_only,
        destructive_hint=default_destructive if destructive is None else destructive,
        idempotent_hint=default_idempotent if idempotent is None else idempotent,
        open_world_hint=open_world,
    )


def parse_toolsets(value: str | Iterable[str] | None) -> frozenset[Toolset]:
    """Toolset names from a ``--toolsets`` value: ``a,b``, ``all``, ``default`` or None (the default set).

    Raises:
        ConfigError: a name is not a toolset; the message lists the valid names.
    """
    if value is None:
        return DEFAULT_TOOLSETS
    names = [n.strip().lower() for n in (value.split(",") if isinstance(value, str) else value)]
    names = [n for n in names if n]
    if not names:
        raise ConfigError("--toolsets is empty", hint="use all, default, or a comma list of: " + ", ".join(TOOLSETS))
    chosen: set[Toolset] = set()
    for name in names:
        if name == "all":
            chosen.update(TOOLSETS)
        elif name == "default":
            chosen.update(DEFAULT_TOOLSETS)
        elif name in TOOLSETS:
            chosen.add(name)
        else:
            raise ConfigError(
                f"'{name}' is not a toolset", hint="use all, default, or a comma list of: " + ", ".join(TOOLSETS)
            )
    return frozenset(chosen)
