"""The reads every clip operation starts with, each failing with an error that says where to look.

Shared by :class:`~mcp_storyboard.services.clips.service.ClipService` and the helpers it composes
(:class:`~mcp_storyboard.services.clips.placement.ClipPlacement`), so each gives the same hints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp_storyboard.errors import ConflictError, NotFoundError
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.clips.serial import Session

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories

SCENE_HINT = "see get_project_tree or list_scenes for a project's scenes"


class ClipLookups:
    """Clip, scene and project lookups with actionable ``NotFoundError`` hints."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos

    async def clip(self, clip_id: str) -> Clip:
        """One clip by id.

        Raises:
            NotFoundError: no such clip.
        """
        clip = await self.repos.clips.find(clip_id)
        if clip is None:
            raise NotFoundError(
                "clip", clip_id, hint="see list_clips for a scene's clips, get_project_tree for a project's"
            )
        return clip

    async def scene(self, scene_id: str) -> Scene:
        scene = await self.repos.scenes.find(scene_id)
        if scene is None:
            raise NotFoundError("scene", scene_id, hint=SCENE_HINT)
        return scene

    async def project(self, project_id: str) -> Project:
        project = await self.repos.projects.find(project_id)
        if project is None:
            raise NotFoundError("project", project_id, hint="see list_projects for the projects")
        return project

    async def reread(self, clip: Clip, session: Session) -> Clip:
        """The clip as stored now, inside the transaction that locked its scene.

        Raises:
            ConflictError: the clip was moved to another scene since it was read (the lock is for the old one).
        """
        # The scene lock was taken for the scene the clip was in before the transaction started.
        current = await self.repos.clips.get(clip.id, session=session)
        if current.scene_id != clip.scene_id:
            raise ConflictError(f"clip {clip.id} was moved to another scene meanwhile", hint="retry the call")
        return current
