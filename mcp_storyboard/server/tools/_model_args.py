"""Arguments shared by the model catalog tool modules: one type and one short description each."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mcp_storyboard.models.catalog import PresetType
from mcp_storyboard.models.values import ModelId

ModelIdArg = Annotated[ModelId, Field(description="A catalog model id (usually its file name).")]
PresetTypeArg = Annotated[PresetType, Field(description="quality or speed.")]
Cursor = Annotated[str | None, Field(max_length=2000, description="next_cursor of the previous page.")]
