"""Resolving what a FaceFusion request names into a job's operations: images and parameters.

Images: a media id or ``storyboard://media/<id>`` (checked to exist), an http(s) URL (imported into the project's
media store when the job is queued, by ``MediaService.import_url`` and its rules), or a character reference image
by index. Parameters, key by key: the explicit argument, else the preset's, else the character's preferred
setting, else the documented default (``facefusion_params``); only keys of the operation's own parameters apply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import ConfigDict, Field, JsonValue
from pydantic import ValidationError as PydanticValidationError

from mcp_storyboard.db.media import MEDIA_URI_PREFIX, MediaStore, media_uri
from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.common import ID_PATTERN, StoryboardModel
from mcp_storyboard.models.facefusion import (
    PARAMETER_MODELS,
    FaceFusionPreferredSettings,
    FaceFusionPreset,
    OperationType,
    validate_parameters,
)
from mcp_storyboard.models.facefusion_jobs import FaceAge
from mcp_storyboard.models.values import NOT_BOOL, JsonObject

_ID = re.compile(ID_PATTERN)
IMAGE_FORMS = "a media id, storyboard://media/<id> or an http(s) URL"


class OperationRequest(StoryboardModel):
    """One operation as a caller asks for it (a batch's item; the single-operation tools build one)."""

    model_config = ConfigDict(extra="forbid")

    operation_type: OperationType
    image: str | None = Field(default=None, min_length=1, max_length=2048)
    """The image to work on: a media id, storyboard://media/<id> or an http(s) URL (imported)."""
    reference_image: Annotated[int, Field(ge=0, le=99), NOT_BOOL] | None = None
    """Instead of image: the index of one of the character's reference images."""
    source_face: str | None = Field(default=None, min_length=1, max_length=2048)
    """swap only: the image with the face to put in (same forms as image)."""
    current_age: FaceAge | None = None
    """age_adjust only: the face's current age (else the character's face_age preference)."""
    parameters: JsonObject = Field(default_factory=dict)
    """Explicit parameters of the operation; they beat the preset's and the character's."""


@dataclass
class Image:
    """A resolved image: its stored URL, or an http(s) URL still to import (``url`` is then that URL)."""

    url: str
    media_project: str | None = None
    to_import: bool = False


async def resolve_image(
    store: MediaStore, where: str, ref: str | None, index: int | None, character: Character | None
) -> Image:
    """Check one image reference (``where`` names the argument in errors); nothing is stored.

    Raises:
        ValidationError: neither or both of image and reference_image, a bad form, an index out of range.
        NotFoundError: the media file does not exist.
    """
    if index is not None:
        if ref is not None:
            raise ValidationError(where, "give either an image or reference_image, not both")
        if character is None:
            raise ValidationError("reference_image", "needs character_id (it indexes the character's reference images)")
        count = len(character.reference_images)
        if index >= count:
            allowed = f"0–{count - 1}" if count else "none: the character has no reference images"
            raise ValidationError("reference_image", f"index {index} is out of range", hint=f"allowed values: {allowed}")
        ref, where = character.reference_images[index], "reference_image"
    if ref is None:
        raise ValidationError(where, "is required", hint=f"give {IMAGE_FORMS}, or reference_image with character_id")
    lowered = ref.lower()
    if lowered.startswith(("http://", "https://")):
        return Image(url=ref, to_import=True)
    media_id = ref.removeprefix(MEDIA_URI_PREFIX)
    if "://" in media_id or not _ID.match(media_id):
        raise ValidationError(where, f"'{ref[:100]}' is not {IMAGE_FORMS}")
    try:
        info = await store.info(media_id)
    except NotFoundError:
        raise NotFoundError("media", media_id, hint=f"{where}: list_media shows the stored files") from None
    if not info.content_type.startswith("image/"):
        raise ValidationError(where, f"media {media_id} is {info.content_type}, not an image")
    return Image(url=media_uri(media_id), media_project=info.project_id)


def resolve_parameters(
    operation: OperationType,
    explicit: Mapping[str, Any],
    preset: FaceFusionPreset | None,
    preferences: FaceFusionPreferredSettings | None,
    where: str = "",
) -> dict[str, JsonValue]:
    """The operation's parameters: explicit → preset → the character's preferences → defaults, validated.
    ``where`` prefixes the field in errors (a batch's ``operations[n].``).

    Raises:
        ValidationError: a value outside its range or set, or a key the operation does not take (the field and
            the allowed values or keys named).
    """
    keys = PARAMETER_MODELS[operation].model_fields
    merged: dict[str, Any] = {}
    if preferences is not None:
        merged.update({k: v for k, v in preferences.model_dump(mode="json", exclude_none=True).items() if k in keys})
    if preset is not None and preset.operation_type == operation:
        merged.update(preset.parameters)
    unknown = [k for k in explicit if k not in keys]
    if unknown:
        raise ValidationError(f"{where}parameters.{unknown[0]}", f"is not a parameter of {operation}", allowed=list(keys))
    merged.update({k: v for k, v in explicit.items() if v is not None})
    try:
        return validate_parameters(operation, merged).model_dump(mode="json", exclude_none=True)
    except PydanticValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(p) for p in error["loc"]) or "parameters"
        raise ValidationError(where + field, f"{error['msg']} ({operation})") from None
