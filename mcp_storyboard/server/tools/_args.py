"""Arguments shared by every tool module: one id type (the models' ``Uuid``), one short description per kind, and the
wait tools' timeout.

Where an id comes from (the create_*, list_* and get_project_tree results) is said once, in the server's
instructions, rather than in each of the ~40 id arguments of the catalog.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mcp_storyboard.models.common import Uuid
from mcp_storyboard.models.values import NOT_BOOL

Id = Uuid
"""Any document id; give it a description where it is an argument."""
ProjectId = Annotated[Uuid, Field(description="A project id.")]
SceneId = Annotated[Uuid, Field(description="A scene id.")]
ClipId = Annotated[Uuid, Field(description="A clip id.")]
CharacterId = Annotated[Uuid, Field(description="A character id.")]
TemplateId = Annotated[Uuid, Field(description="A style template id.")]
MediaId = Annotated[Uuid, Field(description="A media-store file id.")]

WaitTimeout = Annotated[float, Field(ge=0, le=300, allow_inf_nan=False, description="Seconds to wait at most."),
                        NOT_BOOL]
"""The wait_for_* tools' timeout. The bounds sit in the outer ``Field`` so the schema publishes them as
``minimum``/``maximum`` (nested in ``Real`` they came out as pydantic's ``ge``/``le``, which clients ignore)."""
