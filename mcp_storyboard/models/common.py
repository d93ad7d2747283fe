"""Value types and the base document model shared by every collection."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mcp_storyboard.models.docstrings import attribute_docstrings


def utc_now() -> datetime:
    """Now in UTC, truncated to milliseconds, the precision BSON keeps (so a round trip compares equal)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def new_id() -> str:
    """A new UUID4 string id."""
    return str(uuid.uuid4())


def _as_utc(value: datetime) -> datetime:
    # Drivers hand back naive datetimes unless tz_aware is set (mongomock always does): they are UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
"""A datetime that is always timezone-aware UTC."""

ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
"""1–64 characters of ``A-Za-z0-9_.:-``: one keyword in every schema that carries an id (it is in most tools)."""
Uuid = Annotated[str, Field(pattern=ID_PATTERN)]
"""An id string: UUIDs in practice; the pattern keeps operators and paths out of filters."""


class StoryboardModel(BaseModel):
    """Base for every model: field docstrings become JSON-schema descriptions, unknown keys are ignored.

    Models are built on first use (``defer_build``), not at import: start-up imports far more models than a session
    uses. The docstrings come from ``models/docstrings.py`` (pydantic's ``use_attribute_docstrings`` does the same,
    more slowly), applied before anything builds the model.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for name, doc in attribute_docstrings(cls).items():
            field = cls.__pydantic_fields__.get(name)
            if field is not None and field.description is None:
                field.description = doc


class Document(StoryboardModel):
    """A stored document with a UUID ``id`` and UTC timestamps. Mongo's ``_id`` never appears here."""

    id: Uuid = Field(default_factory=new_id)
    """Unique id (UUID string)."""
    created_at: UtcDatetime = Field(default_factory=utc_now)
    """When the document was created (UTC)."""
    updated_at: UtcDatetime = Field(default_factory=utc_now)
    """When the document was last changed (UTC)."""


class Patch(StoryboardModel):
    """A partial update: only the fields the caller set are written; an explicit ``None`` clears a field."""

    model_config = ConfigDict(extra="forbid")

    def changes(self) -> dict[str, Any]:
        """The fields the caller set, as a ``$set`` payload."""
        return self.model_dump(exclude_unset=True, mode="python")


def keep(**constraints: Any) -> Any:
    """Default of a patch field whose document field is required (``name: Name = keep()``): leaving it out
    keeps the stored value and an explicit null is refused. Typed ``Any`` because the ``None`` default is never
    read: ``Patch.changes()`` returns only the fields a caller set."""
    return Field(default=None, **constraints)


M = TypeVar("M", bound=BaseModel)


class Page(StoryboardModel, Generic[M]):
    """One page of a list; pass ``next_cursor`` back to get the next page."""

    items: list[M]
    """The items of this page, in list order."""
    next_cursor: str | None = None
    """Opaque cursor for the next page; null when this is the last page."""
