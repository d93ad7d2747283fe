"""Keyset (cursor) pagination: stable under inserts, one indexed query per page, no skip().

A cursor is the sort-key values of the last item of a page, BSON-JSON encoded (so datetimes keep their
type) and base64url wrapped. It is opaque to callers and validated on the way back in.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

from bson import json_util

from mcp_storyboard.errors import ValidationError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
SortSpec = Sequence[tuple[str, int]]


def clamp_limit(limit: int | None) -> int:
    """The page size to use: the default when None, at most ``MAX_PAGE_SIZE``, at least 1."""
    if limit is None:
        return DEFAULT_PAGE_SIZE
    return max(1, min(int(limit), MAX_PAGE_SIZE))


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json_util.dumps(list(values), json_options=json_util.CANONICAL_JSON_OPTIONS)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The sort values inside ``cursor``.

    Raises:
        ValidationError: the cursor was not produced by this list.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json_util.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError, json.JSONDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity:
        raise ValidationError("cursor", "is not a cursor returned by this list", hint="omit it to start from the first page")
    return values


def keyset_filter(sort: SortSpec, after: Sequence[Any]) -> dict[str, Any]:
    """The filter selecting documents strictly after ``after`` in ``sort`` order.

    For sort (a asc, b desc, id asc) after (x, y, z):
    a > x  or  (a = x and b < y)  or  (a = x and b = y and id > z).
    """
    branches: list[dict[str, Any]] = []
    for i, (field, direction) in enumerate(sort):
        branch: dict[str, Any] = {f: after[j] for j, (f, _) in enumerate(sort[:i])}
        branch[field] = {"$gt" if direction > 0 else "$lt": after[i]}
        branches.append(branch)
    return {"$or": branches}


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
    session: Any = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of raw documents and the cursor of the next page (None on the last page).

    ``sort`` must end with a unique field (``id``) so that the order is total.
    """
    size = clamp_limit(limit)
    full_query: dict[str, Any] = dict(query)
    if cursor:
        after = decode_cursor(cursor, len(sort))
        full_query = {"$and": [dict(query), keyset_filter(sort, after)]} if query else keyset_filter(sort, after)
    kwargs: dict[str, Any] = {"session": session} if session is not None else {}
    find = collection.find(full_query, {"_id": 0} if projection is None else projection, **kwargs).sort(list(sort)).limit(size + 1)
    docs = list(await find.to_list(None))
    next_cursor = encode_cursor(sort_values(docs[size - 1], sort)) if len(docs) > size else None
    return docs[:size], next_cursor
