"""Arguments shared by the FaceFusion tool modules: one type and one short description each."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mcp_storyboard.models.common import Uuid
from mcp_storyboard.models.values import NOT_BOOL

ImageArg = Annotated[
    str | None,
    Field(min_length=1, max_length=2048, description="Media id, storyboard://media/<id> or http(s) URL (imported)."),
]
ReferenceImage = Annotated[
    Annotated[int, Field(ge=0, le=99), NOT_BOOL] | None,
    Field(description="Instead of image: index of a reference image of the character."),
]
OptionalCharacter = Annotated[Uuid | None, Field(description="The character worked for (its settings apply).")]
PresetArg = Annotated[Uuid | None, Field(description="A preset of this operation type.")]
Priority = Annotated[int, Field(ge=-100, le=100, description="Higher runs first."), NOT_BOOL]
FaceAgeArg = Annotated[
    Annotated[int, Field(ge=0, le=100), NOT_BOOL] | None,
    Field(description="The face's current age (default: the character's face_age)."),
]
JobId = Annotated[Uuid, Field(description="A FaceFusion job id.")]
PresetId = Annotated[Uuid, Field(description="A FaceFusion preset id.")]
Cursor = Annotated[str | None, Field(max_length=2000, description="next_cursor of the previous page.")]
