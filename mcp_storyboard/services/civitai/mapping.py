"""From CivitAI's answers to our documents: a ``/models`` item to a ``civitai_models`` entry, and one of its
versions to a ``database_models`` entry.

CivitAI's data is outside input: it is trimmed to our limits (descriptions, tags, trigger words) rather than
refused, and an item that still cannot be read (no id, no name) is skipped by the sync and counted.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticValidationError

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.models.catalog import (
    CivitAIModel,
    DatabaseModel,
    ModelType,
    normalize_base_model,
)

DESCRIPTION_MAX = 20_000
TRIGGER_WORDS_MAX = 500
TAGS_MAX = 100
TAG_MAX = 100

CIVITAI_TO_MODEL_TYPE: dict[str, ModelType] = {
    "Checkpoint": "checkpoint", "LORA": "lora", "LoCon": "lora", "DoRA": "lora", "TextualInversion": "embedding",
    "Controlnet": "controlnet", "VAE": "vae", "Upscaler": "upscaler",
}  # fmt: skip
"""CivitAI types a generation can load; the others (Poses, Workflows, Wildcards, ...) cannot be imported."""


def catalog_entry(item: dict[str, Any]) -> CivitAIModel | None:
    """The ``civitai_models`` entry of one ``/models`` item; None when the item has no usable id or name."""
    tags = [str(tag).strip()[:TAG_MAX] for tag in item.get("tags") or [] if str(tag).strip()]
    try:
        return CivitAIModel.model_validate(
            {
                "id": item.get("id"),
                "name": str(item.get("name") or "").strip()[:500],
                "type": str(item.get("type") or "Other")[:100],
                "description": str(item.get("description") or "")[:DESCRIPTION_MAX],
                "tags": list(dict.fromkeys(tags))[:TAGS_MAX],
                "nsfw": bool(item.get("nsfw")),
                "stats": _object(item.get("stats")),
                "model_versions": [v for v in item.get("modelVersions") or [] if isinstance(v, dict)],
                "creator": _object(item.get("creator")),
            }
        )
    except PydanticValidationError:
        return None


def pick_version(entry: CivitAIModel, version_id: int | None) -> dict[str, Any]:
    """The version to import: ``version_id``, or the newest (CivitAI lists versions newest first).

    Raises:
        ValidationError: (field ``version_id``) the model has no such version, or no published version at all.
    """
    versions = entry.model_versions
    ids = [v.get("id") for v in versions]
    if version_id is None:
        if not versions:
            raise ValidationError("civitai_id", f"CivitAI model {entry.id} has no published version to import")
        return dict(versions[0])
    for version in versions:
        if version.get("id") == version_id:
            return dict(version)
    raise ValidationError(
        "version_id", f"CivitAI model {entry.id} has no version {version_id}", allowed=[i for i in ids if i is not None]
    )


def database_model(entry: CivitAIModel, version: dict[str, Any], *, is_active: bool) -> DatabaseModel:
    """The ``database_models`` entry of one version: its primary file names it (``id`` and ``path``), CivitAI's
    ``baseModel`` gives the family, ``trainedWords`` the trigger words.

    Raises:
        ValidationError: (field ``civitai_id``) a type no generation loads, or a version without files.
    """
    model_type = CIVITAI_TO_MODEL_TYPE.get(entry.type)
    if model_type is None:
        raise ValidationError(
            "civitai_id", f"CivitAI model {entry.id} is a {entry.type}, which generation cannot load",
            allowed=sorted(CIVITAI_TO_MODEL_TYPE),
        )
    file_name = _primary_file_name(version)
    if file_name is None:
        raise ValidationError(
            "version_id", f"version {version.get('id')} of CivitAI model {entry.id} lists no file (archived?)",
            hint="pick another version_id",
        )
    words = [str(w).strip() for w in version.get("trainedWords") or [] if str(w).strip()]
    trigger_words = ", ".join(dict.fromkeys(words))[:TRIGGER_WORDS_MAX] or None
    version_name = str(version.get("name") or "").strip()
    name = f"{entry.name} {version_name}".strip() if version_name else entry.name
    return DatabaseModel(
        id=file_name,
        name=name[:200],
        type=model_type,
        base_model=normalize_base_model(str(version.get("baseModel") or "")),
        path=file_name,
        description=str(version.get("description") or entry.description)[:DESCRIPTION_MAX],
        trigger_words=trigger_words,
        is_active=is_active,
        is_nsfw=entry.nsfw,
        tags=entry.tags,
        civitai_id=entry.id,
    )


def _primary_file_name(version: dict[str, Any]) -> str | None:
    files = [f for f in version.get("files") or [] if isinstance(f, dict) and str(f.get("name") or "").strip()]
    primary = next((f for f in files if f.get("primary")), files[0] if files else None)
    return None if primary is None else str(primary["name"]).strip()[:512]


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
