"""A character's FaceFusion data: its history (read a page at a time), gallery and preferred settings."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import ValidationError as PydanticValidationError

from mcp_storyboard.errors import ConflictError, NotFoundError, ValidationError
from mcp_storyboard.models.facefusion import (
    FaceFusionHistoryEntry,
    FaceFusionOutputGallery,
    FaceFusionPreferredSettings,
)
from mcp_storyboard.repositories.characters import FaceFusionCharacterRepository
from mcp_storyboard.services.facefusion.views import (
    CharacterFaceData,
    FacePreferences,
    HistoryPage,
)

GalleryCategory = Literal["enhanced_faces", "age_variants", "swapped_faces", "edited_expressions", "custom_outputs"]
"""The gallery's categories (``FaceFusionOutputGallery``)."""
GALLERY_CATEGORIES: tuple[str, ...] = get_args(GalleryCategory)
RECENT_HISTORY = 10
"""History entries the character's facefusion resource shows."""
_SWAP_TRIES = 32
"""Merges a change tries before giving up: each lost try means another change was stored (progress is made), so
this bounds how many changes to one character's preferences may race one another."""
CHARACTER_HINT = "list_characters shows a project's characters"


class FaceDataService:
    """Reads and small writes of the FaceFusion fields of characters."""

    def __init__(self, characters: FaceFusionCharacterRepository) -> None:
        self.characters = characters

    async def history(self, character_id: str, *, limit: int | None = None, cursor: str | None = None) -> HistoryPage:
        """A page of the character's history, newest first.

        Raises:
            NotFoundError: no such character.
            ValidationError: a cursor not returned by this list.
        """
        try:
            part = await self.characters.history_page(character_id, limit=limit, cursor=cursor)
        except NotFoundError:
            raise NotFoundError("character", character_id, hint=CHARACTER_HINT) from None
        items = [FaceFusionHistoryEntry.model_validate(e) for e in part.entries]
        return HistoryPage(items=items, total=part.total, next_cursor=part.next_cursor)

    async def overview(self, character_id: str, *, recent: int = RECENT_HISTORY) -> CharacterFaceData:
        """Preferences, gallery and the newest ``recent`` history entries (newest first).

        Raises:
            NotFoundError: no such character.
        """
        try:
            character, total = await self.characters.facefusion_parts(character_id, recent=recent)
        except NotFoundError:
            raise NotFoundError("character", character_id, hint=CHARACTER_HINT) from None
        settings = character.facefusion_preferred_settings
        preferences = FacePreferences(character_id=character_id, customised=settings is not None,
                                      settings=settings or FaceFusionPreferredSettings())
        return CharacterFaceData(character_id=character_id, preferences=preferences,
                                 gallery=character.facefusion_output_gallery, history_total=total,
                                 recent_history=list(reversed(character.facefusion_processing_history)))

    async def gallery(self, character_id: str) -> FaceFusionOutputGallery:
        return (await self.overview(character_id, recent=0)).gallery

    async def preferences(self, character_id: str) -> FacePreferences:
        return (await self.overview(character_id, recent=0)).preferences

    async def set_preferences(self, character_id: str, changes: dict[str, Any]) -> FacePreferences:
        """Merge ``changes`` into the stored preferences (or the defaults); null puts a key back to its default.
        Validated as a whole; written only if nobody changed them meanwhile (else merged again).

        Raises:
            ValidationError: no change, an unknown key (the allowed ones listed), or a value out of range.
            NotFoundError: no such character.
            ConflictError: concurrent changes kept colliding.
        """
        allowed = list(FaceFusionPreferredSettings.model_fields)
        if not changes:
            raise ValidationError("settings", "sets no field", allowed=allowed)
        unknown = [k for k in changes if k not in allowed]
        if unknown:
            raise ValidationError(f"settings.{unknown[0]}", "is not a preferred setting", allowed=allowed)
        # Compare-and-set on the stored value, not $set per key: the settings have rules across keys (a detector
        # model allows only some sizes), so the merged whole is validated, and a write that raced ours is merged
        # again rather than overwritten.
        for _ in range(_SWAP_TRIES):
            exists, stored = await self.characters.raw_preferences(character_id)
            if not exists:
                raise NotFoundError("character", character_id, hint=CHARACTER_HINT)
            base = FaceFusionPreferredSettings.model_validate(stored or {}).model_dump(mode="json", exclude_none=True)
            merged = {k: v for k, v in {**base, **changes}.items() if v is not None}
            try:
                settings = FaceFusionPreferredSettings.model_validate(merged)
            except PydanticValidationError as exc:
                error = exc.errors(include_url=False, include_input=False)[0]
                where = ".".join(str(p) for p in error["loc"])
                raise ValidationError(f"settings.{where}" if where else "settings", error["msg"]) from None
            written = await self.characters.swap_preferences(character_id, stored, settings.model_dump(mode="python"))
            if written is not None:
                return FacePreferences(character_id=character_id, customised=True, settings=settings)
        raise ConflictError("the preferences kept changing while they were merged", hint="retry")

    async def remove_gallery_item(
        self, character_id: str, category: GalleryCategory, *, url: str | None = None, age: int | None = None
    ) -> FaceFusionOutputGallery:
        """Remove an image from the gallery: by URL from a list category, by age (and optionally URL) from
        age_variants. Returns the gallery after it.

        Raises:
            ValidationError: the wrong selector for the category.
            NotFoundError: no such character, or the gallery has no such item.
        """
        if category == "age_variants":
            if age is None:
                raise ValidationError("age", "is required to remove an age variant (0–100)")
            removed = await self.characters.unset_age_variant(character_id, age, url)
            what = f"age variant {age}"
        else:
            if url is None:
                raise ValidationError("url", f"is required to remove an image from {category}")
            if age is not None:
                raise ValidationError("age", "applies to age_variants only")
            removed = await self.characters.pull_gallery_url(character_id, category, url)
            what = url
        if removed is None:
            raise NotFoundError("character", character_id, hint=CHARACTER_HINT)
        if not removed:
            raise NotFoundError(f"{category} item", what, hint="get_character_facefusion_gallery shows the gallery")
        return await self.gallery(character_id)
