"""Catalog models: create, read, change, delete, offer or withdraw, search (keywords ranked here), complete."""

from __future__ import annotations

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.pagination import (
    clamp_limit,
    cursor_key,
    decode_cursor,
    encode_cursor,
)
from mcp_storyboard.errors import ConflictError, DuplicateKeyConflict, ValidationError
from mcp_storyboard.models.catalog import DatabaseModel, DatabaseModelPatch
from mcp_storyboard.models.catalog_search import ModelFilter, query_words, relevance
from mcp_storyboard.repositories.database_models import (
    Candidate,
    DatabaseModelRepository,
)
from mcp_storyboard.repositories.inference_configurations import (
    InferenceConfigurationRepository,
)
from mcp_storyboard.services.models.families import detect_base_model
from mcp_storyboard.services.models.presets import PresetService
from mcp_storyboard.services.models.views import (
    ModelPage,
    ModelSummary,
    ModelWithPresets,
)

MAX_SCANNED = 20_000
"""Index hits a search reads for its most selective word: a query whose longest word starts more keywords than
this is answered from the first 20,000 in keyword order (more words or a longer word narrow it)."""
SEARCH_HINT = "search_models finds models by name, tag or trigger words"
_RANK_TYPES = ((int,), (str,), (str,))


class ModelService:
    """The ``database_models`` catalog and its inference presets."""

    def __init__(self, database: Database) -> None:
        self.repo = DatabaseModelRepository(database)
        self.configurations = InferenceConfigurationRepository(database)
        self.presets = PresetService(self.repo, self.configurations)

    async def create(self, model: DatabaseModel) -> DatabaseModel:
        """Add a model; a base model left at "Other" is detected from its path, then its id.

        Raises:
            ConflictError: a model with this id exists.
        """
        if model.base_model == "Other":
            detected = detect_base_model(model.path) or detect_base_model(model.id)
            if detected is not None:
                model = model.model_copy(update={"base_model": detected})
        try:
            return await self.repo.insert(model)
        except DuplicateKeyConflict:
            raise ConflictError(f"model '{model.id}' exists", field="model_id",
                                hint="update_model changes it; pick another model_id for a new one") from None

    async def get(self, model_id: str) -> DatabaseModel:
        """Raises: NotFoundError: no such model."""
        return await self.repo.get(model_id)

    async def details(self, model_id: str) -> ModelWithPresets:
        """A model with its quality and speed presets (stored or built-in).

        Raises:
            NotFoundError: no such model.
        """
        model = await self.repo.get(model_id)
        presets = await self.presets.both(model.id, model.base_model)
        return ModelWithPresets.model_validate({**model.model_dump(), "presets": presets})

    async def update(self, model_id: str, patch: DatabaseModelPatch) -> tuple[DatabaseModel, list[str]]:
        """Change the fields set on ``patch``; returns the stored model and the fields changed.

        Raises:
            ValidationError: the patch sets nothing.
            NotFoundError: no such model.
        """
        changes = patch.changes()
        if not changes:
            raise ValidationError("patch", "sets no field", allowed=sorted(DatabaseModelPatch.model_fields))
        if "path" in changes and "base_model" not in changes:
            redetected = await self._redetected_family(model_id, changes["path"])
            if redetected is not None:
                changes["base_model"] = redetected
        return await self.repo.update_fields(model_id, changes), list(changes)

    async def _redetected_family(self, model_id: str, new_path: str) -> str | None:
        """The base model for a new path, when the stored one came from detection (it is "Other" or what the old
        path detects as); None keeps the stored one (it was set by hand, which a path change does not undo).
        A base model set by a call racing this one may be replaced by the detected one; the result says so."""
        current = await self.repo.get(model_id)
        if current.base_model not in ("Other", detect_base_model(current.path) or detect_base_model(current.id)):
            return None
        detected = detect_base_model(new_path) or detect_base_model(current.id) or "Other"
        return detected if detected != current.base_model else None

    async def delete(self, model_id: str) -> DatabaseModel:
        """Delete a model and its stored presets.

        Raises:
            NotFoundError: no such model.
        """
        model = await self.repo.get(model_id)
        await self.configurations.delete_for_model(model.id)
        await self.repo.delete(model.id)
        return model

    async def set_active(self, model_id: str, active: bool) -> DatabaseModel:
        """Raises: NotFoundError: no such model."""
        return await self.repo.set_active(model_id, active)

    async def search(
        self, text: str, where: ModelFilter, *, limit: int | None = None, cursor: str | None = None
    ) -> ModelPage:
        """Models matching ``where`` and every word of ``text`` (as a keyword prefix), best match first, then by
        name; without words, by name (by type and name when a type is given).

        Raises:
            ValidationError: the cursor is not one this search returned.
        """
        words = query_words(text)
        if not words:
            page = await self.repo.page_filtered(where, limit=limit, cursor=cursor)
            return ModelPage(items=[ModelSummary.of(m) for m in page.items], next_cursor=page.next_cursor)
        size = clamp_limit(limit)
        key = cursor_key("database_models:search", {"words": words, **where.query()}, ())
        ranked = sorted((_rank_key(words, c), c) for c in await self.repo.candidates(words, where, scan_cap=MAX_SCANNED))
        if cursor is not None:
            after = tuple(decode_cursor(cursor, key=key, value_types=_RANK_TYPES))
            ranked = [(k, c) for k, c in ranked if k > after]
        chosen = ranked[:size]
        by_id = {m.id: m for m in await self.repo.get_many(c.id for _, c in chosen)}
        items = [ModelSummary.of(by_id[c.id]) for _, c in chosen if c.id in by_id]
        next_cursor = encode_cursor(list(chosen[-1][0]), key=key) if len(ranked) > size else None
        return ModelPage(items=items, next_cursor=next_cursor)

    async def complete_ids(self, value: str, *, limit: int) -> list[str]:
        return await self.repo.ids_starting_with(value, limit=limit)

    async def complete_names(self, value: str, *, limit: int) -> list[str]:
        return await self.repo.names_starting_with(query_words(value), limit=limit, scan_cap=MAX_SCANNED)


def _rank_key(words: list[str], candidate: Candidate) -> tuple[int, str, str]:
    # Negated so that an ascending sort puts the best first; name case-folded, id breaking ties.
    return (-relevance(words, candidate.name, candidate.tags, candidate.trigger_words), candidate.name.casefold(),
            candidate.id)



