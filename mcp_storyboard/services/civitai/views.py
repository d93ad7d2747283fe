"""What the CivitAI tools show of a catalog entry: a compact summary (the resource has the whole entry)."""

from __future__ import annotations

from mcp_storyboard.models.catalog import CivitAIModel
from mcp_storyboard.models.common import StoryboardModel

CIVITAI_MODELS_URI = "storyboard://civitai-models"


def civitai_model_uri(civitai_id: int | str) -> str:
    return f"{CIVITAI_MODELS_URI}/{civitai_id}"


class CivitAISummary(StoryboardModel):
    """One catalog entry in brief."""

    id: int
    name: str
    type: str
    nsfw: bool
    tags: list[str]
    base_models: list[str]
    """The versions' base models, newest version first, without repeats."""
    latest_version_id: int | None
    downloads: int | None
    uri: str

    @classmethod
    def of(cls, entry: CivitAIModel) -> CivitAISummary:
        bases = [str(v.get("baseModel")) for v in entry.model_versions if v.get("baseModel")]
        latest = entry.model_versions[0].get("id") if entry.model_versions else None
        downloads = entry.stats.get("downloadCount")
        return cls(
            id=entry.id, name=entry.name, type=entry.type, nsfw=entry.nsfw, tags=entry.tags[:10],
            base_models=list(dict.fromkeys(bases)),
            latest_version_id=latest if isinstance(latest, int) else None,
            downloads=downloads if isinstance(downloads, int) else None,
            uri=civitai_model_uri(entry.id),
        )  # fmt: skip
