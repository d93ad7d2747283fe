"""Per-project authorization below the tools: a view of a :class:`Database` that shows each caller only its own.

Over Streamable HTTP with authentication, a non-admin caller may list, read and change only the projects it owns
(``projects.owner_id``) and what belongs to them (issue 10). The server binds an :class:`OwnerScope` to each of such
a caller's requests (:func:`scoped_to`), and the services run over :func:`owner_scoped_view`, whose collections add
the scope to every query they are given:

- ``projects``: ``owner_id`` is the caller;
- the collections under a project (scenes, clips, characters, FaceFusion jobs, generation batches, render jobs):
  ``project_id`` is one of the caller's projects;
- ``style_templates``: also the shared library (``project_id`` null), whose templates only admins add, change or
  delete (the style service checks it: applying one still counts its use);
- ``facefusion_presets``: reads see the caller's and the public presets; writes only the caller's;
- the media store: files of the caller's projects.

A document outside the scope is simply not there: a get answers ``[not-found]`` exactly as for an id that never
existed (so nobody learns what others have), a list leaves it out, an update or delete matches nothing. Inserts are
checked instead: a document for another caller's project, or a project owned by someone else, is refused.
The collection wrapper is an allowlist, as ``read_only.py``'s is: a driver method not named here is refused while
a scope is bound (fail closed), and passes through without one (stdio, admins, the workers' own tasks).

Why here and not in each tool: one rule, applied to every query of every tool, resource, prompt and completion,
including queries a future tool adds; the services keep their own "not found" answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pymongo import UpdateOne

from mcp_storyboard.errors import ForbiddenError, NotFoundError

if TYPE_CHECKING:
    from mcp_storyboard.db.connection import Database
    from mcp_storyboard.db.media import MediaInfo, MediaStore
    from mcp_storyboard.models.common import Page


@dataclass
class OwnerScope:
    """Who the current request acts for, and the projects that caller owns (read once per request)."""

    user_id: str
    projects: set[str] = field(default_factory=set)

    def owns(self, project_id: object) -> bool:
        return isinstance(project_id, str) and project_id in self.projects


_scope: ContextVar[OwnerScope | None] = ContextVar("mcp_storyboard_owner_scope", default=None)


def current_scope() -> OwnerScope | None:
    """The scope bound to the current request; None: full access (stdio, ``--no-auth``, admins, workers)."""
    return _scope.get()


@contextmanager
def scoped_to(scope: OwnerScope) -> Iterator[OwnerScope]:
    """Bind ``scope`` for the duration of the block (and the tasks started inside it)."""
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


Filter = Callable[[OwnerScope], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    """How one collection is scoped: the filter added to reads and to writes, and the check of a new document."""

    read: Filter
    write: Filter
    may_insert: Callable[[OwnerScope, Mapping[str, Any]], bool]


def _in_projects(scope: OwnerScope) -> dict[str, Any]:
    return {"project_id": {"$in": sorted(scope.projects)}}


def _project_of_document(scope: OwnerScope, document: Mapping[str, Any]) -> bool:
    return scope.owns(document.get("project_id"))


UNDER_A_PROJECT = Rule(read=_in_projects, write=_in_projects, may_insert=_project_of_document)
RULES: dict[str, Rule] = {
    "projects": Rule(
        read=lambda s: {"owner_id": s.user_id},
        write=lambda s: {"owner_id": s.user_id},
        may_insert=lambda s, d: d.get("owner_id") == s.user_id,
    ),
    "scenes": UNDER_A_PROJECT,
    "clips": UNDER_A_PROJECT,
    "characters": UNDER_A_PROJECT,
    "facefusion_jobs": UNDER_A_PROJECT,
    "generation_batches": UNDER_A_PROJECT,
    "render_jobs": UNDER_A_PROJECT,
    "style_templates": Rule(
        # The library (no project) is shared: everyone reads it and applying a template counts its use (a write);
        # only admins add, change or delete library templates, which the style service checks.
        read=lambda s: {"project_id": {"$in": [*sorted(s.projects), None]}},
        write=lambda s: {"project_id": {"$in": [*sorted(s.projects), None]}},
        may_insert=_project_of_document,
    ),
    "facefusion_presets": Rule(
        read=lambda s: {"$or": [{"user_id": s.user_id}, {"is_public": True}]},
        write=lambda s: {"user_id": s.user_id},
        may_insert=lambda s, d: d.get("user_id") == s.user_id,
    ),
}
"""Every collection that holds a user's data. The others (users and tokens behind the admin guard, the shared model
catalog and ComfyUI servers, counters, change logs, rate limits) pass through unscoped."""


def restrict(query: Mapping[str, Any] | None, condition: Mapping[str, Any]) -> dict[str, Any]:
    """``query`` with ``condition`` added; keys the query already uses are combined with ``$and``."""
    base = dict(query or {})
    if base.keys() & condition.keys():
        return {"$and": [base, dict(condition)]}
    return {**base, **condition}


READS = frozenset({"find", "find_one", "count_documents"})
WRITES = frozenset({
    "update_one", "update_many", "replace_one", "delete_one", "delete_many", "find_one_and_update",
    "find_one_and_replace", "find_one_and_delete",
})  # fmt: skip
"""Methods whose first argument (or ``filter=``) is the query to restrict."""
PASSING = frozenset({
    "name", "full_name", "database", "codec_options", "read_preference", "read_concern", "write_concern",
    "list_indexes", "index_information",
})  # fmt: skip
"""Attributes that touch no document."""


def _out_of_scope(collection: str, method: str) -> ForbiddenError:
    return ForbiddenError(f"{method} on {collection} is not available to a project-scoped caller",
                          hint="ask an admin; this is a server defect if a tool sent you here")


class ScopedCollection:
    """A collection that adds the bound scope's condition to every query (see the module docstring)."""

    def __init__(self, collection: Any, rule: Rule) -> None:
        self._collection = collection
        self._rule = rule

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._collection, name)
        if name in PASSING:
            return target
        if name in READS or name in WRITES:
            condition = self._rule.read if name in READS else self._rule.write
            return _with_filter(target, condition)
        if name in {"insert_one", "insert_many", "aggregate", "bulk_write", "distinct"}:
            return getattr(self, f"_{name}")
        if current_scope() is None:
            return target
        raise _out_of_scope(self._collection.name, name)

    def _insert_one(self, document: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        self._check_new([document])
        return self._collection.insert_one(document, *args, **kwargs)

    def _insert_many(self, documents: Iterable[Mapping[str, Any]], *args: Any, **kwargs: Any) -> Any:
        documents = list(documents)
        self._check_new(documents)
        return self._collection.insert_many(documents, *args, **kwargs)

    def _check_new(self, documents: Sequence[Mapping[str, Any]]) -> None:
        scope = current_scope()
        if scope is None:
            return
        for document in documents:
            if not self._rule.may_insert(scope, document):
                raise ForbiddenError(f"cannot add to {self._collection.name}: it would belong to another user",
                                     hint="work in a project you own (list_projects shows them)")
        if self._collection.name == "projects":  # the caller owns what it just created, for the rest of the call
            scope.projects.update(str(d["id"]) for d in documents if "id" in d)

    def _aggregate(self, pipeline: Sequence[Mapping[str, Any]], *args: Any, **kwargs: Any) -> Any:
        scope = current_scope()
        if scope is not None:
            pipeline = [{"$match": self._rule.read(scope)}, *pipeline]
        return self._collection.aggregate(pipeline, *args, **kwargs)

    def _distinct(self, key: str, filter: Mapping[str, Any] | None = None, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        scope = current_scope()
        if scope is not None:
            filter = restrict(filter, self._rule.read(scope))  # noqa: A001
        return self._collection.distinct(key, filter, *args, **kwargs)

    def _bulk_write(self, requests: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
        scope = current_scope()
        if scope is not None:
            requests = [self._restricted_update(request, scope) for request in requests]
        return self._collection.bulk_write(requests, *args, **kwargs)

    def _restricted_update(self, request: Any, scope: OwnerScope) -> UpdateOne:
        # The repositories send bulks of plain UpdateOne (``Repository._bulk_update``); anything else is refused.
        if type(request) is not UpdateOne or request._upsert:
            raise _out_of_scope(self._collection.name, f"bulk_write({type(request).__name__})")
        return UpdateOne(restrict(request._filter, self._rule.write(scope)), request._doc)


def _with_filter(method: Callable[..., Any], condition: Filter) -> Callable[..., Any]:
    def restricted(*args: Any, **kwargs: Any) -> Any:
        scope = current_scope()
        if scope is None:
            return method(*args, **kwargs)
        if kwargs.get("upsert"):  # an upsert could create a document the condition does not describe
            raise ForbiddenError("an upsert is not available to a project-scoped caller")
        if "filter" in kwargs:
            kwargs["filter"] = restrict(kwargs["filter"], condition(scope))
        else:
            first, *rest = args or (None,)
            args = (restrict(first, condition(scope)), *rest)
        return method(*args, **kwargs)

    return restricted


class ScopedDb:
    """The driver's database handle, handing out scoped collections for :data:`RULES`' names."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def __getitem__(self, name: str) -> Any:
        return self._wrap(name, self._db[name])

    def get_collection(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._wrap(name, self._db.get_collection(name, *args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    @staticmethod
    def _wrap(name: str, collection: Any) -> Any:
        rule = RULES.get(name)
        return collection if rule is None else ScopedCollection(collection, rule)


class ScopedMediaStore:
    """The media store showing a scoped caller only the files of its projects."""

    def __init__(self, store: MediaStore) -> None:
        self._store = store
        self.max_bytes = store.max_bytes

    async def put(self, data: bytes, *, project_id: str | None = None, **kwargs: Any) -> MediaInfo:
        scope = current_scope()
        if scope is not None and not scope.owns(project_id):
            raise NotFoundError("project", project_id, hint="list_projects shows the projects")
        return await self._store.put(data, project_id=project_id, **kwargs)

    async def info(self, media_id: str) -> MediaInfo:
        info = await self._store.info(media_id)
        scope = current_scope()
        if scope is not None and not scope.owns(info.project_id):
            raise NotFoundError("media", media_id)  # the store's own wording: nothing tells it exists
        return info

    async def get(self, media_id: str) -> tuple[MediaInfo, bytes]:
        await self.info(media_id)
        return await self._store.get(media_id)

    async def list(self, *, project_id: str | None = None, project_ids: Sequence[str] | None = None,
                   limit: int | None = None, cursor: str | None = None) -> Page[MediaInfo]:
        scope = current_scope()
        if scope is not None:
            allowed = scope.projects if project_ids is None else scope.projects & set(project_ids)
            project_ids = sorted(allowed)
        return await self._store.list(project_id=project_id, project_ids=project_ids, limit=limit, cursor=cursor)

    async def count(self, *, project_id: str) -> int:
        scope = current_scope()
        if scope is not None and not scope.owns(project_id):
            return 0
        return await self._store.count(project_id=project_id)

    async def delete(self, media_id: str) -> bool:
        scope = current_scope()
        if scope is not None:
            try:
                await self.info(media_id)
            except NotFoundError:
                return False
        return await self._store.delete(media_id)

    async def delete_project(self, project_id: str) -> int:
        scope = current_scope()
        if scope is not None and not scope.owns(project_id):
            return 0
        return await self._store.delete_project(project_id)

    def __getattr__(self, name: str) -> Any:
        if current_scope() is None:
            return getattr(self._store, name)
        raise _out_of_scope("the media store", name)


def owner_scoped_view(database: Database) -> Database:
    """``database`` seen through the bound :class:`OwnerScope` (none bound: everything, as before)."""
    if database.owner_scoped:
        return database
    media: Any = ScopedMediaStore(database.media)
    return dataclasses.replace(database, db=ScopedDb(database.db), media=media, owner_scoped=True, _closers=[],
                               unrestricted=database.unrestricted or database)
