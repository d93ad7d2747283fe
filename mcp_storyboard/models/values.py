"""Constrained value types and small bases shared by the collection modules.

Limits follow the original app's v1 DTOs (``reference/original-app.md`` §2): names 1–200, descriptions ≤2000,
lyrics ≤5000. Where it set none, the limit here is a generous bound that keeps one document small.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, JsonValue, StringConstraints
from pydantic_core import PydanticCustomError

from mcp_storyboard.models.common import Patch, StoryboardModel, UtcDatetime, utc_now


def _refuse_bool(value: Any) -> Any:
    # JSON true is a Python bool, and a bool is an int: without this, {"duration": true} made a 1-second clip.
    if isinstance(value, bool):
        raise PydanticCustomError("number_not_bool", "Input should be a number, not true or false")
    return value


NOT_BOOL = BeforeValidator(_refuse_bool)
"""Refuses a boolean where a number is expected (numeric strings such as ``"5"`` stay accepted, as everywhere)."""

Integer = Annotated[int, NOT_BOOL]
"""An int; ``true``/``false`` are refused. Give constraints inside a new ``Annotated`` type, not on a union of
it (``Integer | None = Field(ge=1)`` validates but publishes ``ge`` instead of ``minimum``)."""

Real = Annotated[float, Field(allow_inf_nan=False), NOT_BOOL]
"""A finite float; ``true``/``false`` are refused."""

PositiveInt = Annotated[int, Field(ge=1), NOT_BOOL]
"""An int of at least 1; ``true``/``false`` are refused."""

PageSize = Annotated[int, Field(ge=1, le=100), NOT_BOOL]
"""Items per page of a list, 1–100."""

DisplayOrder = Annotated[int, Field(ge=0, le=100_000), NOT_BOOL]
"""A 0-based place in a display order (scenes among their siblings, clips in their scene), 0–100,000."""

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
"""A display name: surrounding whitespace removed, 1–200 characters."""


def name_key(name: str) -> str:
    """The key unique names are compared by: case-folded (``Straße`` and ``STRASSE`` share ``strasse``) and in one
    Unicode normal form (a composed and a decomposed ``é`` are the same letter), Unicode's canonical caseless match.

    Stored as ``name_key`` next to the name of characters and style templates, under a unique index per scope.
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


Description = Annotated[str, Field(max_length=2000)]
"""Free text of at most 2000 characters."""

Lyrics = Annotated[str, Field(max_length=5000)]
"""Lyrics of a scene or clip, at most 5000 characters."""

Prompt = Annotated[str, Field(max_length=10_000)]
"""A generation prompt (or negative prompt), at most 10,000 characters."""

Message = Annotated[str, Field(max_length=5000)]
"""An error or status message, at most 5000 characters."""

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
"""One tag: 1–100 characters, surrounding whitespace removed."""

Tags = Annotated[list[Tag], Field(max_length=100)]
"""At most 100 tags."""

ModelId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512, pattern=r"^[^\x00-\x1f]+$")
]
"""A catalog model id: not a UUID but usually the model's file name (it may hold ``/`` for sub-folders)."""

Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False), NOT_BOOL]
"""A float in 0.0–1.0."""

JsonScalar = str | int | float | bool | None
"""A JSON scalar (no arrays or objects)."""


def _key_problem(key: str) -> str | None:
    if "\x00" in key:
        return "contains a NUL character"
    if key.startswith("$"):
        return "starts with '$'"
    if "." in key:
        return "contains '.'"
    return None


def is_safe_key(key: str) -> bool:
    """True when ``key`` may be a key of a stored mapping (no NUL, no leading ``$``, no ``.``)."""
    return _key_problem(key) is None


def check_keys(value: Any, path: str = "") -> Any:
    """``value`` unchanged when no key of any mapping in it (nested ones too) could break a stored document:
    BSON refuses NUL in a key, and ``$``-prefixed or dotted keys read as operators and paths.

    Raises:
        PydanticCustomError: a key breaks the rule (the message names the key by its path).
    """
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            problem = _key_problem(str(key))
            if problem is not None:
                raise PydanticCustomError(
                    "mapping_key",
                    "key {key} {problem}; keys may not start with '$' or contain '.' or NUL characters",
                    {"key": repr(where), "problem": problem},
                )
            check_keys(inner, where)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            check_keys(inner, f"{path}[{index}]")
    return value


SAFE_KEYS = AfterValidator(check_keys)
"""Validates the keys of a free-form mapping (see :func:`check_keys`)."""

ScalarMap = Annotated[dict[str, JsonScalar], SAFE_KEYS]
"""A free-form mapping of JSON scalars with safe keys (generation parameters)."""

JsonObject = Annotated[dict[str, JsonValue], SAFE_KEYS]
"""A free-form JSON object whose keys, nested ones too, are safe to store."""

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
MEDIA_URL_SCHEMES = frozenset({"http", "https", "storyboard"})
"""URL schemes a stored media reference may use; a reference without a scheme is a relative path."""


def _check_media_url(value: str) -> str:
    scheme = _SCHEME.match(value)
    if scheme and scheme.group(1).lower() not in MEDIA_URL_SCHEMES:
        raise ValueError(
            "a media URL must be http(s)://, storyboard://media/<id> or a relative path, "
            f"not {scheme.group(1)}:"
        )
    if ".." in re.split(r"[/\\?#]", value):
        raise ValueError("a media URL must not contain '..' path segments")
    return value


MediaUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2048, pattern=r"^\S+$"),
    AfterValidator(_check_media_url),
]
"""A reference to a media file: ``http(s)://…``, ``storyboard://media/<id>`` (the GridFS media store) or a
relative path such as the original app's ``/uploads/...``. Other schemes (``file:``, ``data:``,
``javascript:``) and ``..`` segments are refused."""


class Timestamped(StoryboardModel):
    """Base for stored documents whose key is not a generated UUID ``id``: only the UTC timestamps."""

    created_at: UtcDatetime = Field(default_factory=utc_now)
    """When the document was created (UTC)."""
    updated_at: UtcDatetime = Field(default_factory=utc_now)
    """When the document was last changed (UTC)."""


def _drop_null_defaults(schema: dict[str, Any]) -> None:
    # Every patch field defaults to "unset"; a `"default": null` next to a non-nullable type would tell a
    # client that null is allowed. Absence already means "unchanged".
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict) and "default" in prop and prop["default"] is None:
            del prop["default"]


class CollectionPatch(Patch):
    """Base of the per-collection patches.

    A field the document requires is typed without ``None`` (``name: Name = Field(default=None)``): leaving it
    out keeps the stored value, sending ``null`` is refused. A field the document allows to be null is typed
    ``X | None``: sending ``null`` clears it. Read a patch through ``changes()``, never attribute by attribute.
    """

    model_config = ConfigDict(json_schema_extra=_drop_null_defaults)


class Leased(StoryboardModel):
    """Queue bookkeeping shared by FaceFusion jobs and generation batches (additions to the schema)."""

    attempts: Integer = Field(default=0, ge=0)
    """Addition: how many times a worker has claimed it."""
    max_attempts: Integer = Field(default=3, ge=1, le=10)
    """Addition: claims allowed before it fails for good, 1–10."""
    lease_owner: str | None = Field(default=None, max_length=200)
    """Addition: the worker holding it while it is processing."""
    lease_expires_at: UtcDatetime | None = None
    """Addition: when the lease lapses unless renewed by a heartbeat; then another worker may take it."""
