"""Seeds shared by the FaceFusion tool tests: a project with a character, stored images, history and gallery."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.facefusion import FaceFusionHistoryEntry, FaceFusionPreset
from mcp_storyboard.services.container import Services
from tests.media_samples import png
from tests.seed import seed_project


@dataclass
class Faces:
    project_id: str
    character_id: str
    image: str
    """A stored PNG of the project: ``storyboard://media/<id>``."""
    other: str
    """A second stored PNG."""


async def store_png(services: Services, project_id: str, n: int = 1) -> str:
    item = await services.media.upload(project_id, f"face{n}.png", base64.b64encode(png(n)).decode(), "image/png")
    return item.uri


async def faces(services: Services, name: str = "Night Drive", **character: Any) -> Faces:
    project_id = await seed_project(services, name)
    image, other = await store_png(services, project_id, 1), await store_png(services, project_id, 2)
    stored = Character(project_id=project_id, name="Ana", reference_images=[other, image], **character)
    await services.repositories.characters.insert(stored)
    return Faces(project_id, stored.id, image, other)


async def seed_history(services: Services, character_id: str, count: int, *, start: int = 0) -> None:
    """Append ``count`` entries (``input_image_url`` https://x.test/<n>.png, n from ``start``), oldest first."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    entries = [
        FaceFusionHistoryEntry(
            operation_type="enhance", input_image_url=f"https://x.test/{n}.png", success=n % 3 != 0,
            created_at=base + timedelta(minutes=n),
        ).model_dump(mode="python")
        for n in range(start, start + count)
    ]  # fmt: skip
    await services.database.collection("characters").update_one(
        {"id": character_id}, {"$push": {"facefusion_processing_history": {"$each": entries}}}
    )


async def seed_preset(services: Services, name: str, **fields: Any) -> str:
    """A preset's id, stored as given (``user_id`` another user's, when set)."""
    fields.setdefault("operation_type", "enhance")
    return (await services.facefusion.presets.repo.insert(FaceFusionPreset(name=name, **fields))).id


async def stored_job(services: Services, job_id: str) -> dict[str, Any]:
    raw = await services.database.collection("facefusion_jobs").find_one({"id": job_id}, {"_id": 0})
    assert raw is not None
    return dict(raw)
