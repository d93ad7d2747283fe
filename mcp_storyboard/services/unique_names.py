"""Names unique within a scope ignoring case (a project's characters; a project's or the library's style
templates), kept without a unique index.

No unique index can say "ignoring case" portably (mongomock has no collation), so a create or rename checks
first and checks again after its write: of two concurrent calls taking the same name, a loser sees the other and
undoes its own write, so two documents never keep one name (both may be refused; a retry then succeeds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from mcp_storyboard.errors import ConflictError, ValidationError
from mcp_storyboard.models.common import Patch


class _Named(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def project_id(self) -> str | None: ...


N = TypeVar("N", bound=_Named)


class NamedRepository(Protocol[N]):
    """What the check needs of a repository (characters and style templates have it)."""

    async def same_name(
        self, project_id: Any, name: str, *, exclude_id: str | None = None, session: Any = None
    ) -> list[N]: ...

    async def get(self, key: str, /) -> N: ...

    async def insert(self, model: N, /, *, session: Any = None) -> N: ...

    async def delete(self, key: str, /, *, session: Any = None) -> bool: ...

    async def apply_patch(self, key: str, patch: Patch, /) -> N: ...

    async def rename_back(self, key: str, /, *, from_name: str, to_name: str) -> None: ...


Taken = Callable[[Any, N], ConflictError]
"""Builds the refusal from the scope (a project id, or None for the library) and the document holding the name."""


async def refuse_taken(
    repo: NamedRepository[N], scope: str | None, name: str, taken: Taken[N], *, exclude_id: str | None = None,
    session: Any = None,
) -> None:
    """Raise ``taken(scope, holder)`` when another document of the scope is called ``name`` ignoring case."""
    holders = await repo.same_name(scope, name, exclude_id=exclude_id, session=session)
    if holders:
        raise taken(scope, holders[0])


async def insert_named(
    repo: NamedRepository[N], document: N, scope: str | None, taken: Taken[N], *, session: Any = None
) -> N:
    """Insert ``document`` unless its name is taken in ``scope``; deleted again if a concurrent insert took it.

    Raises:
        ConflictError: from ``taken``.
    """
    await refuse_taken(repo, scope, document.name, taken, session=session)
    await repo.insert(document, session=session)
    rivals = await repo.same_name(scope, document.name, exclude_id=document.id, session=session)
    if rivals:
        await repo.delete(document.id, session=session)
        raise taken(scope, rivals[0])
    return document


async def update_named(repo: NamedRepository[N], doc_id: str, patch: Patch, taken: Taken[N]) -> N:
    """Apply ``patch`` in one atomic update; a new name must be free in the document's scope, and a rename that
    loses a race for the name is undone.

    Raises:
        ValidationError: the patch sets no field.
        NotFoundError: no such document.
        ConflictError: from ``taken``.
    """
    changes = patch.changes()
    if not changes:
        raise ValidationError("patch", "sets no field", allowed=sorted(type(patch).model_fields))
    current = await repo.get(doc_id)
    renamed = "name" in changes and changes["name"] != current.name
    if renamed:
        await refuse_taken(repo, current.project_id, changes["name"], taken, exclude_id=doc_id)
    updated = await repo.apply_patch(doc_id, patch)
    if renamed:
        rivals = await repo.same_name(current.project_id, updated.name, exclude_id=doc_id)
        if rivals:
            await repo.rename_back(doc_id, from_name=updated.name, to_name=current.name)
            raise taken(current.project_id, rivals[0])
    return updated
