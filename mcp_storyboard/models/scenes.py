"""The ``scenes`` collection: scenes of a project, nested (sub-scenes) or alternate timelines of a parent.

The schema's ``scenes.clips`` array is never stored: clips live in the ``clips`` collection and are attached to a
scene only when it is read (a separate read model).
"""

from __future__ import annotations

from typing import ClassVar


from mcp_storyboard.models.common import Document, Uuid, keep
from mcp_storyboard.models.values import CollectionPatch, Description, DisplayOrder, Lyrics, Name, PositiveInt


class Scene(Document):
    """A scene of a project.

    ``parent_scene_id`` with ``is_alternate: false`` makes a sub-scene (nesting); with ``is_alternate: true`` the
    scene is an alternate timeline of its parent, numbered by ``alternate_number``.
    Additions to the schema: ``alternate_number``, ``lyrics``.
    """

    collection: ClassVar[str] = "scenes"

    project_id: Uuid
    """The project the scene belongs to."""
    name: Name
    """Scene name, 1–200 characters."""
    description: Description = ""
    """Scene description, at most 2000 characters."""
    order: DisplayOrder = 0
    """Display order among the scenes with the same project and parent (≥0, dense 0..n-1 among main scenes)."""
    parent_scene_id: Uuid | None = None
    """The parent scene: the containing scene of a sub-scene, or the original of an alternate."""
    is_alternate: bool = False
    """True when this scene is an alternate timeline of ``parent_scene_id``."""
    alternate_number: PositiveInt | None = None
    """Addition: n in "<name> A<n>" for an alternate (≥1); null for a main scene."""
    lyrics: Lyrics = ""
    """Addition: the scene's lyrics, at most 5000 characters."""


class ScenePatch(CollectionPatch):
    """Fields of a scene a caller may change.

    Moving a scene under another parent, and alternate status, go through their own operations (cycle and depth
    checks, promotion), not through a patch.
    """

    name: Name = keep()
    """New scene name, 1–200 characters."""
    description: Description = keep()
    """New description, at most 2000 characters."""
    order: DisplayOrder = keep()
    """New display order (≥0)."""
    lyrics: Lyrics = keep()
    """New lyrics, at most 5000 characters."""
