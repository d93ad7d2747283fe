"""Keyset (cursor) pagination: stable under inserts, indexed range queries per page (one for the first), no skip().

A cursor holds the sort-key values of the last item of a page, BSON-JSON encoded (so datetimes keep their type),
and a short hash of the list that made it (collection, filter and sort), base64url wrapped. It is opaque to callers
and checked on the way back in: a cursor made by another list, another project's list or another filter, one cut
short, or one whose values are anything but scalars of each sort field's type (a ``{"$ne": null}`` would otherwise
reach the query as an operator) is refused before any query runs. The hash needs no secret: it binds a cursor to
its query, and the type check keeps anything but plain values out of the filter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from bson import json_util
from pydantic import BaseModel

from mcp_storyboard.errors import ValidationError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
SortSpec = Sequence[tuple[str, int]]
ScalarTypes = tuple[type, ...]
"""The Python types a sort value may have (``None`` is always allowed: a document may lack the field)."""

ANY_SCALAR: ScalarTypes = (str, int, float, datetime)
"""The sort-value types of a field whose model type is unknown; booleans are not among them."""
_NUMBER: ScalarTypes = (int, float)
_HINT = "omit it to start from the first page"


def clamp_limit(limit: int | None) -> int:
    """The page size to use: the default when None, at most ``MAX_PAGE_SIZE``, at least 1."""
    if limit is None:
        return DEFAULT_PAGE_SIZE
    return max(1, min(int(limit), MAX_PAGE_SIZE))


def cursor_key(collection: str, query: Mapping[str, Any], sort: SortSpec) -> str:
    """A short hash of the list a cursor belongs to: the collection, the filter and the sort."""
    canonical = json_util.dumps(
        [collection, dict(query), [[field, direction] for field, direction in sort]],
        json_options=json_util.CANONICAL_JSON_OPTIONS,
        sort_keys=True,
    )
    return hashlib.blake2b(canonical.encode(), digest_size=12).hexdigest()


def encode_cursor(values: Sequence[Any], *, key: str) -> str:
    """The cursor continuing after an item whose sort values are ``values``, in the list ``key`` names."""
    raw = json_util.dumps({"k": key, "v": list(values)}, json_options=json_util.CANONICAL_JSON_OPTIONS)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, key: str, value_types: Sequence[ScalarTypes]) -> list[Any]:
    """The sort values inside ``cursor``, one per entry of ``value_types``.

    Raises:
        ValidationError: the cursor is malformed, was made by another list or query, or holds a value that is not
            a scalar of its sort field's type.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json_util.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError, json.JSONDecodeError, TypeError):
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("v"), list) or set(payload) != {"k", "v"}:
        raise ValidationError("cursor", "is not a cursor returned by a list", hint=_HINT)
    if payload["k"] != key:
        raise ValidationError("cursor", "was returned by another list or query (another tool, project or filter)",
                              hint=_HINT)
    values: list[Any] = payload["v"]
    if len(values) != len(value_types) or not all(_fits(v, t) for v, t in zip(values, value_types, strict=True)):
        raise ValidationError("cursor", "is not a cursor returned by this list", hint=_HINT)
    return values


def _fits(value: Any, allowed: ScalarTypes) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):  # a bool is an int to isinstance; only a boolean field takes one
        return bool in allowed
    return isinstance(value, allowed)


@lru_cache(maxsize=256)
def sort_value_types(model: type[BaseModel], sort: tuple[tuple[str, int], ...]) -> tuple[ScalarTypes, ...]:
    """The types each sort field of ``model`` may hold in a cursor (``ANY_SCALAR`` for a field it does not
    declare)."""
    return tuple(_scalar_types(model.model_fields[f].annotation) if f in model.model_fields else ANY_SCALAR
                 for f, _ in sort)


def _scalar_types(annotation: Any) -> ScalarTypes:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _scalar_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return tuple(dict.fromkeys(t for arg in typing.get_args(annotation) for t in _scalar_types(arg)))
    if origin is Literal:
        return tuple(dict.fromkeys(t for v in typing.get_args(annotation) for t in _scalar_types(type(v))))
    if annotation is type(None):
        return ()
    if annotation is bool:
        return (bool,)
    if annotation in _NUMBER:  # a float field may hold an int (and an int field a float) written by other apps
        return _NUMBER
    if isinstance(annotation, type) and issubclass(annotation, str | datetime):
        return (str,) if issubclass(annotation, str) else (datetime,)
    return ANY_SCALAR


def keyset_branches(sort: SortSpec, after: Sequence[Any]) -> list[dict[str, Any]]:
    """The disjoint parts of "strictly after ``after`` in ``sort`` order", first field first.

    For sort (a asc, b desc, id asc) after (x, y, z): a > x;  a = x and b < y;  a = x and b = y and id > z.
    In sort order every document of a later part comes before every document of an earlier one.
    """
    branches: list[dict[str, Any]] = []
    for i, (field, direction) in enumerate(sort):
        branch: dict[str, Any] = {f: after[j] for j, (f, _) in enumerate(sort[:i])}
        branch[field] = {"$gt" if direction > 0 else "$lt": after[i]}
        branches.append(branch)
    return branches


def keyset_filter(sort: SortSpec, after: Sequence[Any]) -> dict[str, Any]:
    """The filter selecting documents strictly after ``after`` in ``sort`` order (the branches, or-ed)."""
    return {"$or": keyset_branches(sort, after)}


def _excludes(query: Mapping[str, Any], branch: Mapping[str, Any]) -> bool:
    """Whether ``query`` pins a field to one value that ``branch`` needs to be past (a part with no documents)."""
    return any(isinstance(cond, dict) and field in query and not isinstance(query[field], dict)
               for field, cond in branch.items())  # fmt: skip


def _within(query: Mapping[str, Any], branch: Mapping[str, Any]) -> dict[str, Any]:
    """``query`` and ``branch`` as one flat filter where their fields agree (an index then serves it whole)."""
    if any(field in query and query[field] != cond for field, cond in branch.items()):
        return {"$and": [dict(query), dict(branch)]}
    return {**query, **branch}


def sort_values(document: Mapping[str, Any], sort: SortSpec) -> list[Any]:
    return [document.get(field) for field, _ in sort]


async def fetch_page(
    collection: Any,
    query: Mapping[str, Any],
    sort: SortSpec,
    *,
    limit: int | None,
    cursor: str | None,
    projection: Mapping[str, Any] | None = None,
    value_types: Sequence[ScalarTypes] | None = None,
    session: Any = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of raw documents and the cursor of the next page (None on the last page).

    ``sort`` must end with a unique field (``id``) so that the order is total. ``value_types`` are the types of
    the sort fields (see :func:`sort_value_types`); without them any non-boolean scalar is accepted.

    Raises:
        ValidationError: ``cursor`` was not returned by this list (checked before any query runs).
    """
    size = clamp_limit(limit)
    key = cursor_key(str(getattr(collection, "name", "")), query, sort)
    kwargs: dict[str, Any] = {"session": session} if session is not None else {}

    async def find(where: Mapping[str, Any], count: int) -> list[dict[str, Any]]:
        shown = {"_id": 0} if projection is None else projection
        return list(await collection.find(dict(where), shown, **kwargs).sort(list(sort)).limit(count).to_list(None))

    if not cursor:
        docs = await find(query, size + 1)
    else:
        after = decode_cursor(cursor, key=key, value_types=value_types or [ANY_SCALAR] * len(sort))
        # One query per part of the keyset filter, the last part first, instead of one $or: each part is a range
        # of the list's index (the embedded server scans the whole collection for an $or).
        docs = []
        for branch in reversed(keyset_branches(sort, after)):
            if len(docs) > size:
                break
            if not _excludes(query, branch):
                docs += await find(_within(query, branch), size + 1 - len(docs))
    next_cursor = encode_cursor(sort_values(docs[size - 1], sort), key=key) if len(docs) > size else None
    return docs[:size], next_cursor
