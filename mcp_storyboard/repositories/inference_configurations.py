"""Inference configurations: one quality and one speed preset per catalog model, keyed by (model_id, preset_type).

These documents have no ``id``. Every keyed method takes the two-part key, either as a tuple
``(model_id, preset_type)`` or as the ``"<model_id>:<preset_type>"`` string a clip's ``inference_config_id``
holds; the base class's single-field ``key`` is never used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mcp_storyboard.errors import NotFoundError
from mcp_storyboard.models.catalog import InferenceConfiguration
from mcp_storyboard.repositories.base import NO_ID, Repository, Session, _s

ConfigKey = tuple[str, str] | str
"""``(model_id, preset_type)`` or ``"<model_id>:<preset_type>"``."""
# The schema's unique index {model_id: 1, preset_type: 1} is also the order.
BY_KEY = (("model_id", 1), ("preset_type", 1))


def key_filter(key: ConfigKey) -> dict[str, str]:
    """The filter selecting the configuration with this key (model ids are trimmed, as the model stores them)."""
    model_id, preset_type = key if isinstance(key, tuple) else InferenceConfiguration.split_key(key)
    return {"model_id": model_id.strip(), "preset_type": preset_type}


def _shown(key: ConfigKey) -> str:
    query = key_filter(key)
    return f"{query['model_id']}:{query['preset_type']}"


class InferenceConfigurationRepository(Repository[InferenceConfiguration, ConfigKey]):
    document = InferenceConfiguration
    kind = "inference configuration"

    async def find(self, key: ConfigKey, *, session: Session = None) -> InferenceConfiguration | None:
        raw = await self.collection.find_one(key_filter(key), NO_ID, **_s(session))
        return None if raw is None else self.from_document(raw)

    async def get(self, key: ConfigKey, *, session: Session = None) -> InferenceConfiguration:
        """The configuration with this key.

        Raises:
            NotFoundError: no such configuration (named ``<model_id>:<preset_type>``).
        """
        found = await self.find(key, session=session)
        if found is None:
            raise NotFoundError(self.kind, _shown(key), hint="each model has at most a 'quality' and a 'speed' configuration")
        return found

    async def get_many(self, keys: Iterable[ConfigKey], *, session: Session = None) -> list[InferenceConfiguration]:
        """The configurations with these keys, in key order (missing keys are left out)."""
        wanted = [key_filter(k) for k in dict.fromkeys(keys)]
        if not wanted:
            return []
        return await self._find_all({"$or": wanted}, BY_KEY, session=session)

    async def exists(self, key: ConfigKey, *, session: Session = None) -> bool:
        return await self.collection.find_one(key_filter(key), {"_id": 1}, **_s(session)) is not None

    async def update_fields(self, key: ConfigKey, fields: Mapping[str, Any], *, session: Session = None) -> InferenceConfiguration:
        """``$set`` the given fields (already validated by a model); ``apply_patch`` comes through here.

        Raises:
            NotFoundError: no such configuration.
        """
        update = {"$set": dict(fields)} if fields else {}
        return await self._update(key_filter(key), update, session=session, missing=_shown(key))

    async def delete(self, key: ConfigKey, *, session: Session = None) -> bool:
        result = await self.collection.delete_one(key_filter(key), **_s(session))
        return bool(result.deleted_count)

    async def list_for_model(self, model_id: str, *, session: Session = None) -> list[InferenceConfiguration]:
        """A model's configurations: quality, then speed (those that exist)."""
        return await self._find_all({"model_id": model_id.strip()}, BY_KEY, session=session)

    async def upsert(self, config: InferenceConfiguration, *, session: Session = None) -> InferenceConfiguration:
        """Insert a configuration or replace the one with its key, keeping its ``created_at``."""
        query = {"model_id": config.model_id, "preset_type": config.preset_type}
        return await self._upsert_keeping_created_at(query, config, session=session)

    async def delete_for_model(self, model_id: str, *, session: Session = None) -> int:
        """Delete a model's configurations (when the model leaves the catalog)."""
        return await self._delete_where({"model_id": model_id.strip()}, session=session)
