"""Projects: create, read, list, patch, the cascading delete, the project tree and the Markdown shot list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp_storyboard.errors import InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.models.common import Page, StoryboardModel
from mcp_storyboard.models.projects import Project, ProjectPatch
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.repositories.generation_batches import GenerationBatchRepository
from mcp_storyboard.repositories.render_jobs import RenderJobRepository
from mcp_storyboard.services.common.alternates import counter_key
from mcp_storyboard.services.projects.storyboard_markdown import render_storyboard
from mcp_storyboard.services.projects.tree import ProjectTree, TreeOptions, build_tree, tree_size
from mcp_storyboard.services.projects.tree_limits import most_clips_that_fit, too_large, too_many_clips

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories

Session = Any
PATCH_FIELDS = tuple(ProjectPatch.model_fields)
_SWEEPS = 5
_COUNTER_BATCH = 10_000  # keys per delete: keeps one command far below the 16 MB BSON limit


class ProjectContents(StoryboardModel):
    """What a project holds (what deleting it removes, or removed)."""

    scenes: int = 0
    """Scenes, sub-scenes and alternates."""
    clips: int = 0
    """Clips, alternates included."""
    characters: int = 0
    """Characters of the project."""
    style_templates: int = 0
    """The project's own style templates (library templates are shared and never deleted with a project)."""
    media: int = 0
    """Files in the media store that belong to the project."""
    facefusion_jobs: int = 0
    """FaceFusion jobs of the project."""
    generation_batches: int = 0
    """Generation batches of the project."""
    render_jobs: int = 0
    """Animatic render jobs of the project."""

    def plus(self, other: ProjectContents) -> ProjectContents:
        """Both counts added, field by field."""
        return ProjectContents(**{name: getattr(self, name) + getattr(other, name) for name in type(self).model_fields})

    def describe(self) -> str:
        parts = [
            (self.scenes, "scene"),
            (self.clips, "clip"),
            (self.characters, "character"),
            (self.style_templates, "style template"),
            (self.media, "media file"),
        ]
        return ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in parts)


class ProjectDeletion(StoryboardModel):
    """The result of deleting a project."""

    project_id: str
    """The deleted project."""
    name: str
    """Its name."""
    deleted: ProjectContents
    """How many documents and files were removed with it."""


class ProjectService:
    """Projects and their whole-project views."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos
        # The job repositories are not in the shared container (yet); they are cheap to build over its database.
        self.facefusion_jobs = FaceFusionJobRepository(repos.database)
        self.generation_batches = GenerationBatchRepository(repos.database)
        self.render_jobs = RenderJobRepository(repos.database)

    # -- reads -------------------------------------------------------------------------------------------------
    async def get(self, project_id: str) -> Project:
        """One project.

        Raises:
            NotFoundError: no such project; the hint names the most recent ones.
        """
        found = await self.repos.projects.find(project_id)
        if found is None:
            raise NotFoundError("project", project_id, hint=await self._recent_hint())
        return found

    async def list_page(
        self, *, name_contains: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Page[Project]:
        """Projects newest first; ``name_contains`` matches names case-insensitively as plain text.

        Raises:
            ValidationError: ``cursor`` was not returned by this list.
        """
        return await self.repos.projects.list_page(name_contains=name_contains or None, limit=limit, cursor=cursor)

    async def give_to(self, owner_id: str, project_ids: list[str] | None) -> int:
        """Make ``owner_id`` the owner of ``project_ids`` (None: of every project without an owner), for
        ``mcp-storyboard users give-projects``; how many changed.

        Raises:
            NotFoundError: one of ``project_ids`` does not exist (nothing changed).
        """
        if project_ids is not None:
            found = {p.id for p in await self.repos.projects.get_many(project_ids)}
            missing = [p for p in project_ids if p not in found]
            if missing:
                raise NotFoundError("project", missing[0], hint="list_projects shows the projects")
        return await self.repos.projects.set_owner(owner_id, project_ids)

    async def complete_ids(self, value: str, *, limit: int) -> list[str]:
        """Project ids for argument completion: ids starting with ``value``, then ids of projects whose name
        contains it (so typing part of a name finds the project's id); the most recent when ``value`` is empty."""
        if not value:
            return [p.id for p in (await self.repos.projects.list_page(limit=limit)).items]
        by_id = await self.repos.projects.ids_starting_with(value, limit=limit)
        by_name = (await self.repos.projects.list_page(name_contains=value, limit=limit)).items
        return list(dict.fromkeys([*by_id, *(p.id for p in by_name)]))[:limit]

    async def tree(
        self, project_id: str, options: TreeOptions | None = None, *, max_bytes: int | None = None
    ) -> ProjectTree:
        """The project tree in three queries however large the project: the project, its scenes, its clips (only
        the fields the tree shows). Without clips, the scenes' clip numbers stand in for the clips: read with the
        scenes where the backend keeps them exact (transactions: ``services/common/clip_stats.py``), else counted
        by one aggregate. With ``max_bytes``, a whole-project tree compares its clip count (from those numbers, or
        a fourth, cheap query) with what can fit, so a tree with more clips is refused before they are read.

        Raises:
            NotFoundError: no such project, or ``options.scene_id`` is not one of its scenes.
            InvalidStateError: (code ``too-large``) the tree's JSON is over ``max_bytes``; the hint says how to
                narrow it (a clip cap, no clips, or one scene's subtree).
        """
        options = options or TreeOptions()
        project = await self.get(project_id)
        scenes, stats = await self.repos.scenes.list_with_clip_stats(project_id)
        if not self.repos.database.capabilities.transactions:
            stats = None  # kept without the scene lock that makes them exact: count instead
        if not options.include_clips:
            stats = await self.repos.clips.scene_stats(project_id) if stats is None else stats
            tree = build_tree(project, scenes, [], options, stats)
            if max_bytes is not None and (size := tree_size(tree)) > max_bytes:
                raise too_large(size, max_bytes, project, scenes, [], options)
            return tree
        most = None if max_bytes is None else most_clips_that_fit(project, scenes, options, max_bytes)
        if max_bytes is not None and most is not None:
            # A count first: a tree with more clips than can fit is refused before any clip is read.
            count = await self.repos.clips.count_for_project(project_id) if stats is None else sum(s.clips for s in stats)
            if count > most:
                raise too_many_clips(count, max_bytes, project, scenes, options)
        clips = await self.repos.clips.outlines_for_project(project_id)
        tree = build_tree(project, scenes, clips, options)
        if max_bytes is not None:
            size = tree_size(tree)
            if size > max_bytes:
                raise too_large(size, max_bytes, project, scenes, clips, options)
        return tree

    async def storyboard_markdown(self, project_id: str) -> str:
        """The project as a Markdown shot list (five queries: project, scenes, clips, characters, templates).

        Raises:
            NotFoundError: no such project.
        """
        project = await self.get(project_id)
        scenes = await self.repos.scenes.list_for_project(project_id)
        clips = await self.repos.clips.list_for_project(project_id)
        characters = await self.repos.characters.list_for_project(project_id)
        templates = await self.repos.style_templates.get_many(c.style_template_id for c in clips if c.style_template_id)
        return render_storyboard(project, scenes, clips, characters, templates)

    async def contents(self, project_id: str) -> ProjectContents:
        """How many scenes, clips, characters, own templates and media files the project holds.

        Raises:
            NotFoundError: no such project.
        """
        await self.get(project_id)
        return ProjectContents(
            scenes=await self.repos.scenes.count_for_project(project_id),
            clips=await self.repos.clips.count_for_project(project_id),
            characters=await self.repos.characters.count_for_project(project_id),
            style_templates=await self.repos.style_templates.count_for_project(project_id),
            media=await self._media_count(project_id),
        )

    # -- writes ------------------------------------------------------------------------------------------------
    async def create(
        self,
        name: str,
        *,
        description: str = "",
        thumbnail_url: str | None = None,
        music_media_id: str | None = None,
        music_duration: float | None = None,
        owner_id: str | None = None,
    ) -> Project:
        """Create a project (values validated by the ``Project`` model).

        Raises:
            NotFoundError: ``music_media_id`` is not in the media store.
            pydantic.ValidationError: a value outside its field's limits.
        """
        project = Project(
            name=name,
            description=description,
            thumbnail_url=thumbnail_url,
            music_media_id=music_media_id,
            music_duration=music_duration,
            owner_id=owner_id,
        )
        if project.music_media_id is not None:
            await self._check_media(project.music_media_id)
        return await self.repos.projects.insert(project)

    async def update(self, project_id: str, patch: ProjectPatch) -> Project:
        """Write the fields set on ``patch`` (an explicit null clears an optional field) in one atomic update.

        Raises:
            ValidationError: the patch sets no field.
            NotFoundError: no such project, or ``music_media_id`` is not in the media store.
        """
        changes = patch.changes()
        if not changes:
            raise ValidationError(
                "patch",
                "sets no field, so there is nothing to change",
                hint="set at least one of: " + ", ".join(PATCH_FIELDS) + " (null clears an optional field)",
            )
        media_id = changes.get("music_media_id")
        if media_id is not None:
            await self._check_media(media_id)
        try:
            return await self.repos.projects.update_fields(project_id, changes)
        except NotFoundError:
            raise NotFoundError("project", project_id, hint=await self._recent_hint()) from None

    async def delete(self, project_id: str, *, confirm: bool) -> ProjectDeletion:
        """Delete a project and everything under it: scenes, clips, characters, its own style templates (library
        templates stay), the alternate counters of its scenes and clips, its jobs and batches — in one
        transaction where the backend has them, retried when it collides with a concurrent one — then its media
        files (the media store is outside transactions).

        Raises:
            NotFoundError: no such project.
            InvalidStateError: (code ``confirmation-required``) ``confirm`` is not true; nothing is changed and the
                hint says what would be deleted.
            ConflictError: concurrent changes kept aborting the transaction (retry).
        """
        if not confirm:
            contents = await self.contents(project_id)
            raise InvalidStateError(
                f"deleting project {project_id} removes {contents.describe()}, and its jobs, for good",
                hint="call delete_project again with confirm=true to delete it",
                code="confirmation-required",
            )
        repos = self.repos

        async def work(session: Session) -> tuple[Project, ProjectContents]:
            project = await repos.projects.find(project_id, session=session)
            if project is None:
                raise NotFoundError("project", project_id, hint=await self._recent_hint())
            deleted = await self._delete_contents(project_id, session)
            # Last: without transactions a failure above leaves the project in place to delete again.
            await repos.projects.delete(project_id, session=session)
            return project, deleted

        project, deleted = await repos.database.run_transaction(work)
        if not repos.database.capabilities.transactions:
            # A create that re-checked its parent before that parent went kept what it inserted (services/common/parents.py);
            # sweep until a sweep finds nothing (a clip may have passed its check under a scene the last sweep took).
            for _ in range(_SWEEPS):
                more = await self._delete_contents(project_id, None)
                deleted = deleted.plus(more)
                if more == ProjectContents():
                    break
        deleted.media = await repos.database.media.delete_project(project_id)
        return ProjectDeletion(project_id=project.id, name=project.name, deleted=deleted)

    async def _delete_contents(self, project_id: str, session: Session) -> ProjectContents:
        repos = self.repos
        keys = [counter_key("scene", i) for i in await repos.scenes.ids_for_project(project_id, session=session)]
        keys += [counter_key("clip", i) for i in await repos.clips.ids_for_project(project_id, session=session)]
        for start in range(0, len(keys), _COUNTER_BATCH):
            await repos.counters.delete(keys[start : start + _COUNTER_BATCH], session=session)
        return ProjectContents(
            clips=await repos.clips.delete_for_project(project_id, session=session),
            scenes=await repos.scenes.delete_for_project(project_id, session=session),
            characters=await repos.characters.delete_for_project(project_id, session=session),
            style_templates=await repos.style_templates.delete_for_project(project_id, session=session),
            facefusion_jobs=await self.facefusion_jobs.delete_for_project(project_id, session=session),
            generation_batches=await self.generation_batches.delete_for_project(project_id, session=session),
            render_jobs=await self.render_jobs.delete_for_project(project_id, session=session),
        )

    # -- helpers -----------------------------------------------------------------------------------------------
    async def _recent_hint(self) -> str:
        recent = (await self.repos.projects.list_page(limit=5)).items
        if not recent:
            return "there are no projects yet; create one with create_project"
        names = ", ".join(f"{p.id} ({p.name})" for p in recent)
        return f"call list_projects to find a project; the most recent: {names}"

    async def _check_media(self, media_id: str) -> None:
        try:
            await self.repos.database.media.info(media_id)
        except NotFoundError:
            raise NotFoundError(
                "media",
                media_id,
                hint="music_media_id must be the id of a file in the media store "
                "(storyboard://media/{id}); upload the soundtrack first",
            ) from None

    async def _media_count(self, project_id: str) -> int:
        return await self.repos.database.media.count(project_id=project_id)
