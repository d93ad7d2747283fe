"""Read-only mode below the tools: a view of a :class:`Database` whose collections and media store refuse writes.

``serve --read-only`` hides the write tools, and its services run over this view, so a write that reaches the
services anyway (a tool that forgot its operation, a resource, a future code path) is refused too. The server's own
bookkeeping (API tokens' last use, rate-limit counts) goes to ``Database.bookkeeping``, the viewed database. The collection
wrapper is an allowlist: only the read calls named here pass, so a driver method added later is refused until
someone decides it reads (fail closed). ``aggregate`` passes unless its pipeline writes (``$out``, ``$merge``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mcp_storyboard.errors import ReadOnlyError

if TYPE_CHECKING:
    from mcp_storyboard.db.connection import Database
    from mcp_storyboard.db.media import MediaInfo, MediaStore

READ_CALLS = frozenset({
    "find", "find_one", "count_documents", "estimated_document_count", "distinct", "list_indexes",
    "index_information", "watch", "name", "full_name", "database", "codec_options", "read_preference",
    "read_concern", "write_concern",
})  # fmt: skip
"""Collection attributes that never write."""
WRITING_STAGES = frozenset({"$out", "$merge"})
HINT = "the server was started with --read-only; start it without that flag to make changes"


def refused(action: str) -> ReadOnlyError:
    return ReadOnlyError(f"cannot {action}: the server is read-only", hint=HINT)


class ReadOnlyCollection:
    """A collection that answers reads and refuses everything else."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        if name in READ_CALLS:
            return getattr(self._collection, name)
        raise refused(f"write to {self._collection.name} ({name})")

    def aggregate(self, pipeline: Sequence[Mapping[str, Any]], *args: Any, **kwargs: Any) -> Any:
        if any(stage.keys() & WRITING_STAGES for stage in pipeline):
            raise refused(f"write aggregation results into a collection ({self._collection.name})")
        return self._collection.aggregate(pipeline, *args, **kwargs)


class ReadOnlyDb:
    """The driver's database handle, handing out read-only collections."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def __getitem__(self, name: str) -> ReadOnlyCollection:
        return ReadOnlyCollection(self._db[name])

    def get_collection(self, name: str, *args: Any, **kwargs: Any) -> ReadOnlyCollection:
        return ReadOnlyCollection(self._db.get_collection(name, *args, **kwargs))

    @property
    def name(self) -> str:
        return str(self._db.name)

    async def list_collection_names(self, *args: Any, **kwargs: Any) -> list[str]:
        return list(await self._db.list_collection_names(*args, **kwargs))


class ReadOnlyMediaStore:
    """The media store with its reads and without its writes."""

    def __init__(self, store: MediaStore) -> None:
        self._store = store
        self.max_bytes = store.max_bytes

    async def put(self, data: bytes, **_: Any) -> MediaInfo:
        raise refused("store a file")

    async def delete(self, media_id: str) -> bool:
        raise refused("delete a file")

    async def delete_project(self, project_id: str) -> int:
        raise refused("delete a project's files")

    def __getattr__(self, name: str) -> Any:
        if name in {"get", "info", "list", "count"}:
            return getattr(self._store, name)
        raise refused(f"write to the media store ({name})")


def read_only_view(database: Database) -> Database:
    """``database`` seen read-only: same connection, collections and media store that refuse writes."""
    if database.read_only:
        return database
    media: Any = ReadOnlyMediaStore(database.media)
    return dataclasses.replace(database, db=ReadOnlyDb(database.db), media=media, read_only=True, _closers=[],
                               unrestricted=database)
