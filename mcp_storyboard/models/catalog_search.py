"""Searching catalog models: their keywords, the filters of a search, and the relevance of a model to a query.

The embedded server has no text indexes, so a model stores ``keywords``: the distinct lower-cased, accent-free
words of its id, name, description, tags and trigger words, under a multikey index. A query matches when every
one of its words is a prefix of some keyword: the database reads the index range of one word, the repository checks
the rest, and the service ranks the matches with :func:`relevance`. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcp_storyboard.models.catalog import ModelType, normalize_base_model

MAX_KEYWORDS = 600
"""Words kept per text field (a long description is cut there)."""
TEXT_FIELDS = ("id", "name", "tags", "trigger_words", "description")
"""The fields a model's keywords are made of; each keeps its own words in ``kw_<field>``, so a write that changes
one field rewrites its words and the union ``keywords`` in one pipeline update, without reading the others."""
MAX_QUERY_WORDS = 8
"""Words of a query that count (a longer query narrows nothing further in practice and costs a scan each)."""
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """The lower-cased, accent-free alphanumeric words of ``text``, in order (``"Épic_XL v2"`` → epic, xl, v2)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _WORD.findall(folded)


def field_words(value: str | Iterable[str] | None) -> list[str]:
    """The distinct words of one text field (a string, or a list such as tags), at most :data:`MAX_KEYWORDS`."""
    texts = [value] if isinstance(value, str) else list(value or [])
    found: dict[str, None] = {}
    for text in texts:
        for word in words(text):
            found.setdefault(word, None)
            if len(found) >= MAX_KEYWORDS:
                return list(found)
    return list(found)


def keyword_fields(fields: Mapping[str, Any]) -> dict[str, list[str]]:
    """``kw_<field>`` → that field's words, for each text field present in ``fields``."""
    return {f"kw_{name}": field_words(fields[name]) for name in TEXT_FIELDS if name in fields}


def keywords(fields: Mapping[str, Any]) -> list[str]:
    """A whole model's distinct keywords (the union of its text fields' words)."""
    return list(dict.fromkeys(word for words_ in keyword_fields(fields).values() for word in words_))


def query_words(text: str) -> list[str]:
    """The distinct words of a query that filter, in the query's order."""
    return list(dict.fromkeys(words(text)))[:MAX_QUERY_WORDS]


def keyword_range(word: str, *, elem_match: bool) -> dict[str, Any]:
    """The filter of models with a keyword starting with ``word``: the index range [word, next word).

    A query word is ``[a-z0-9]+`` (see :func:`words`), so nothing in it is an operator or a pattern; the range
    ends at the word with its last character raised by one ("jugg" → "jugh"). On an array, MongoDB lets each
    bound match a different element, so it needs ``$elemMatch`` (which it answers from the index);
    SecantusDB 0.7.0b3 scans the collection for ``$elemMatch`` and answers the bare range from the index.
    The caller re-checks the word on what it reads, so either form returns exact matches.
    """
    bounds = {"$gte": word, "$lt": word[:-1] + chr(ord(word[-1]) + 1)}
    return {"keywords": {"$elemMatch": bounds} if elem_match else bounds}


def has_words(keywords_: Iterable[str], query: Sequence[str]) -> bool:
    """Whether every query word starts one of ``keywords_``."""
    stored = list(keywords_)
    return all(any(k.startswith(word) for k in stored) for word in query)


def relevance(query: Sequence[str], name: str, tags: Iterable[str], trigger_words: str | None) -> int:
    """How well a matching model fits the query words: higher first.

    The whole name equal to the query beats a name starting with it, which beats query words in the name (whole
    words above prefixes), then in tags, then in trigger words; a match only in the id or description scores 1.
    """
    name_words = words(name)
    if not query:
        return 0
    score = 1
    if name_words == list(query) or "".join(name_words) == "".join(query):
        score += 1000
    tag_words = {w for tag in tags for w in words(tag)}
    trigger = set(words(trigger_words or ""))
    for word in query:
        if word in name_words:
            score += 40
        elif any(w.startswith(word) for w in name_words):
            score += 20
        if word in tag_words:
            score += 8
        if word in trigger:
            score += 5
    if name_words and name_words[0].startswith(query[0]):
        score += 10
    return score


@dataclass(frozen=True)
class ModelFilter:
    """Equality filters of a catalog search; None leaves a field free."""

    type: ModelType | None = None
    base_model: str | None = None
    is_active: bool | None = None
    is_nsfw: bool | None = None
    tags: tuple[str, ...] = ()
    """Every one of these tags (exact)."""

    def matches(self, raw: Mapping[str, Any]) -> bool:
        """Whether a stored model (as read) passes these filters; the same test as :meth:`query`."""
        return all(raw.get(field) == value for field, value in self.query().items() if field != "tags") and \
            set(self.tags) <= set(raw.get("tags") or [])

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.type is not None:
            query["type"] = self.type
        if self.base_model is not None:
            query["base_model"] = normalize_base_model(self.base_model)
        if self.is_active is not None:
            query["is_active"] = self.is_active
        if self.is_nsfw is not None:
            query["is_nsfw"] = self.is_nsfw
        if self.tags:
            query["tags"] = {"$all": list(self.tags)}
        return query
