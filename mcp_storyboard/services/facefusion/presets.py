"""FaceFusion presets: saved parameters of one operation type, private to their user or public.

The acting user sees public presets and its own, and changes only its own: over stdio (and for admins over HTTP)
the local user (``user_id`` None), over HTTP an owner-scoped caller (``db/owner_scope.py``), whose presets carry its
user id; the scoped view applies the same rule to every query.
"""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue
from pydantic import ValidationError as PydanticValidationError

from mcp_storyboard.db.owner_scope import current_scope
from mcp_storyboard.errors import InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.models.common import Page
from mcp_storyboard.models.facefusion import (
    FaceFusionPreset,
    FaceFusionPresetPatch,
    PresetOperationType,
    PresetVisibility,
    describe_errors,
    validate_parameters,
)
from mcp_storyboard.repositories.facefusion_presets import FaceFusionPresetRepository

LOCAL_USER: str | None = None
"""The local user (stdio, admins over HTTP): presets it creates are stored with user_id null."""


def acting_user() -> str | None:
    """Whose presets the current request works with."""
    scope = current_scope()
    return LOCAL_USER if scope is None else scope.user_id
PRESET_HINT = "list_facefusion_presets shows the presets you can use"


class PresetService:
    """Create, read, change and delete presets; apply one (counting the use)."""

    def __init__(self, presets: FaceFusionPresetRepository) -> None:
        self.repo = presets

    async def create(
        self, name: str, operation_type: PresetOperationType, parameters: dict[str, JsonValue], *,
        description: str | None = None, is_public: bool = False,
    ) -> FaceFusionPreset:
        """Store a preset; ``parameters`` are validated against ``operation_type`` and stored normalised.

        Raises:
            pydantic.ValidationError: a field or parameter outside what it allows (named).
        """
        preset = FaceFusionPreset(name=name, operation_type=operation_type, parameters=parameters,
                                  description=description, is_public=is_public, user_id=acting_user())
        return await self.repo.insert(preset)

    async def get(self, preset_id: str) -> FaceFusionPreset:
        """A preset the local user may see.

        Raises:
            NotFoundError: no such preset, or another user's private one.
        """
        return await self.usable(preset_id)

    async def usable(self, preset_id: str) -> FaceFusionPreset:
        preset = await self.repo.find(preset_id)
        if preset is None or (preset.user_id != acting_user() and not preset.is_public):
            raise NotFoundError("facefusion preset", preset_id, hint=PRESET_HINT)
        return preset

    async def list_page(
        self, *, operation_type: PresetOperationType | None = None, visibility: PresetVisibility = "all",
        limit: int | None = None, cursor: str | None = None,
    ) -> Page[FaceFusionPreset]:
        """Presets by name: public, the local user's private ones, or all it may see."""
        return await self.repo.page_by_visibility(acting_user(), visibility, operation_type=operation_type,
                                                  limit=limit, cursor=cursor)

    async def update(self, preset_id: str, patch: FaceFusionPresetPatch) -> tuple[FaceFusionPreset, list[str]]:
        """Change the fields set on ``patch``; parameters are checked against the (new or stored) operation type.

        Raises:
            ValidationError: the patch sets nothing, or the parameters do not fit the operation type.
            NotFoundError: no such preset visible to the local user.
            InvalidStateError: it is another user's (public) preset.
        """
        changes: dict[str, Any] = patch.changes()
        if not changes:
            raise ValidationError("patch", "sets no field", allowed=list(FaceFusionPresetPatch.model_fields))
        current = await self._own(preset_id)
        operation = changes.get("operation_type", current.operation_type)
        if "parameters" in changes or "operation_type" in changes:
            changes["parameters"] = _checked(operation, changes.get("parameters", current.parameters))
        updated = await self.repo.update_fields(preset_id, changes)
        return updated, [name for name in FaceFusionPresetPatch.model_fields if name in changes]

    async def delete(self, preset_id: str) -> FaceFusionPreset:
        """Delete one of the local user's presets (jobs that used it keep their resolved parameters).

        Raises:
            NotFoundError: no such preset visible to the local user.
            InvalidStateError: it is another user's (public) preset.
        """
        preset = await self._own(preset_id)
        if not await self.repo.delete(preset_id):
            raise NotFoundError("facefusion preset", preset_id, hint=PRESET_HINT)
        return preset

    async def count_use(self, preset_id: str) -> None:
        """Add one to the preset's ``use_count`` atomically (a preset deleted meanwhile is left alone)."""
        try:
            await self.repo.increment_use(preset_id)
        except NotFoundError:
            pass

    async def _own(self, preset_id: str) -> FaceFusionPreset:
        preset = await self.usable(preset_id)
        if preset.user_id != acting_user():
            raise InvalidStateError(f"facefusion preset '{preset_id}' belongs to another user",
                                    hint="create your own preset from its parameters")
        return preset


def _checked(operation: str, parameters: dict[str, Any]) -> dict[str, Any]:
    try:
        return validate_parameters(operation, parameters).model_dump(mode="json", exclude_none=True)
    except PydanticValidationError as exc:
        raise ValidationError("parameters", f"invalid {operation} parameters: {describe_errors(exc)}") from None
