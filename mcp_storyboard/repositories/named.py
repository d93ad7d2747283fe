"""Repositories of documents whose names are unique in a scope ignoring case: a project's characters, a project's
style templates and the library's (no project).

Every write stores ``name_key`` (the model's, ``values.name_key(name)``) next to the name, and the unique index on
(project_id, name_key) refuses a second holder atomically on every backend: a refused create or rename writes
nothing, with no check before the write and no undo after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel

from mcp_storyboard.errors import DuplicateKeyConflict, NameTaken
from mcp_storyboard.models.values import name_key
from mcp_storyboard.repositories.base import Repository, Session


class _Named(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def name_key(self) -> str: ...

    @property
    def project_id(self) -> str | None: ...


N = TypeVar("N", bound=BaseModel)


class NamedRepository(Repository[N]):
    """A repository whose documents carry ``name_key``, unique per ``project_id``."""

    library_scope: ClassVar[str] = "the library"
    """How errors name the scope of documents without a project."""

    def to_document(self, model: BaseModel) -> dict[str, Any]:
        named: _Named = model  # type: ignore[assignment]
        return {**super().to_document(model), "name_key": named.name_key}

    async def insert(self, model: N, *, session: Session = None) -> N:
        """Insert a new document.

        Raises:
            NameTaken: its scope has a document of that name, ignoring case.
        """
        named: _Named = model  # type: ignore[assignment]
        try:
            return await super().insert(model, session=session)
        except DuplicateKeyConflict as exc:
            if exc.field == self.key:
                raise
            raise await self._taken(named.project_id, named.name, exclude_id=named.id) from None

    async def update_fields(self, key: str, fields: Mapping[str, Any], *, session: Session = None) -> N:
        """``$set`` the given fields in one atomic update; a new ``name`` brings its ``name_key``.

        Raises:
            NotFoundError: no such document.
            NameTaken: the new name belongs to another document of the scope, ignoring case (nothing is written).
        """
        if "name" not in fields:
            return await super().update_fields(key, fields, session=session)
        keyed = {**fields, "name_key": name_key(fields["name"])}
        try:
            return await self._update({self.key: key}, {"$set": keyed}, session=session)
        except DuplicateKeyConflict:
            # The id never changes here, so only the name can collide.
            current = await self.get(key)
            raise await self._taken(current.project_id, fields["name"], exclude_id=key) from None  # type: ignore[attr-defined]

    async def _taken(self, project_id: str | None, name: str, *, exclude_id: str) -> NameTaken:
        """The refusal naming the document that holds ``name`` in the scope. Read outside any session: after a
        refused write inside a transaction, the transaction can only be aborted, and the holder is committed."""
        holder = await self.collection.find_one(
            {"project_id": project_id, "name_key": name_key(name), "id": {"$ne": exclude_id}}, {"_id": 0, "id": 1, "name": 1}
        )
        scope = f"project {project_id}" if project_id is not None else self.library_scope
        if holder is None:
            return NameTaken(self.kind, scope, name, None)
        return NameTaken(self.kind, scope, str(holder["name"]), str(holder["id"]))
