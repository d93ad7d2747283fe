"""Style templates: a project's own and library ones (no project), applied to clips, and composed prompts.

Decisions:
- ``use_count`` counts the times a template was newly applied to a clip. Applying the template a clip already has
  changes nothing and counts nothing (``apply`` is idempotent, so a retried call never inflates the count); taking
  it off and applying it again counts again. The clip's update and the ``$inc`` run in one transaction where the
  backend has them (``Database.run_transaction`` retries it when concurrent applies collide), and the clip update
  is conditional, so concurrent applies to one clip count once and to different clips each count.
- Names are unique within a scope (one project, or the library) ignoring case, kept by a unique index on the
  stored ``name_key`` as for characters (see ``repositories/named.py``).
- ``compose`` previews the final prompts (``prompt_composer``); the clip's stored prompts are never changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from mcp_storyboard.db.owner_scope import current_scope
from mcp_storyboard.errors import ForbiddenError, NotFoundError, ValidationError
from mcp_storyboard.models.common import Page, StoryboardModel
from mcp_storyboard.models.style_templates import StyleTemplate, StyleTemplatePatch
from mcp_storyboard.services.styles.prompt_composer import ComposedClipPrompt, compose_clip
from mcp_storyboard.services.common.parents import create_under
from mcp_storyboard.services.common.references import delete_referenced

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories

Scope = Literal["project", "library", "all"]
HINT_NAMES = 10
PROJECT_HINT = "list_projects shows the project ids"


class StyleTemplateDeletion(StoryboardModel):
    """What deleting a style template did."""

    id: str
    """The deleted template's id."""
    project_id: str | None
    """Its project; null for a library template."""
    name: str
    """Its name."""
    clips_cleared: int
    """Clips whose ``style_template_id`` was cleared."""
    cleared_clip_ids: list[str]
    """Ids of (at most 100 of) those clips."""


class StyleApplication(StoryboardModel):
    """A clip's style template after ``apply_style_template``."""

    clip_id: str
    """The clip."""
    project_id: str
    """The clip's project."""
    style_template_id: str
    """The template now applied to the clip."""
    template_name: str
    """Its name."""
    previous_style_template_id: str | None
    """The template the clip had before (null: none)."""
    applied: bool
    """False when the clip already had this template: nothing was written and ``use_count`` did not change."""
    use_count: int
    """The template's ``use_count`` after this call."""


class StyleTemplateService:
    """Style templates, their use on clips, and prompt composition; depends on the repositories only."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos

    # -- reads -------------------------------------------------------------------------------------------------
    async def get(self, template_id: str) -> StyleTemplate:
        """One template.

        Raises:
            NotFoundError: no such template.
        """
        return await self.repos.style_templates.get(template_id)

    async def list_page(
        self, project_id: str | None, *, scope: Scope = "all", limit: int | None = None, cursor: str | None = None
    ) -> Page[StyleTemplate]:
        """Templates by ``use_count`` descending: a project's own and the library's (``all``), the project's only
        (``project``) or the library's only (``library``). Without ``project_id`` the library is listed.

        Raises:
            ValidationError: ``scope`` is ``project`` without a ``project_id``, or the cursor is not this list's.
            NotFoundError: no such project.
        """
        if project_id is None:
            if scope == "project":
                raise ValidationError("project_id", "is required when scope is project",
                                      hint="give project_id, or use scope library or all")
            return await self.repos.style_templates.page_for_project(None, limit=limit, cursor=cursor)
        await self._require_project(project_id)
        if scope == "library":
            return await self.repos.style_templates.page_for_project(None, limit=limit, cursor=cursor)
        return await self.repos.style_templates.page_for_project(
            project_id, include_library=scope == "all", limit=limit, cursor=cursor
        )

    async def complete(self, project_id: str | None, prefix: str, *, limit: int) -> list[tuple[str, str]]:
        """``(id, name)`` of the templates a project can use (its own and the library's; every template without
        ``project_id``) whose name or id starts with ``prefix``, most used first."""
        scopes = None if project_id is None else [project_id, None]
        return await self.repos.style_templates.id_name_pairs(scopes, prefix=prefix, limit=limit)

    async def compose(self, clip_id: str, *, base_negative: str | None = None) -> ComposedClipPrompt:
        """The final image and video prompts of a clip from its prompts, character and template. Reads only.

        Raises:
            NotFoundError: no such clip.
        """
        clip = await self.repos.clips.get(clip_id)
        character = await self.repos.characters.find(clip.character_id) if clip.character_id else None
        template = await self.repos.style_templates.find(clip.style_template_id) if clip.style_template_id else None
        composed = compose_clip(clip, character=character, template=template, base_negative=base_negative)
        notes: list[str] = []
        if clip.character_id and character is None:
            notes.append(f"the clip's character {clip.character_id} no longer exists; it is left out")
        if clip.style_template_id and template is None:
            notes.append(f"the clip's style template {clip.style_template_id} no longer exists; it is left out")
        return composed.model_copy(update={"notes": notes}) if notes else composed

    # -- writes ------------------------------------------------------------------------------------------------
    async def create(self, project_id: str | None, name: str, **fields: Any) -> StyleTemplate:
        """Create a project's template (``project_id`` given) or a library template (None). ``fields``:
        description, prompt_additions, negative_prompt, style_strength (validated by ``StyleTemplate``).

        Raises:
            NotFoundError: no such project.
            NameTaken: the scope has a template of that name, ignoring case (code ``duplicate``).
            pydantic.ValidationError: a field breaks its limits.
        """
        template = StyleTemplate(project_id=project_id, name=name, **fields)
        if project_id is None:  # a library template has no parent
            _library_is_for_admins("add")
            return await self.repos.style_templates.insert(template)
        # Under the project: the insert conflicts with the project's delete (services/common/parents.py).
        return await create_under(
            self.repos.database, self.repos.projects, project_id,
            lambda session: self.repos.style_templates.insert(template, session=session),
            lambda _: self._undo_create(template.id), hint=PROJECT_HINT,
        )  # fmt: skip

    async def update(self, template_id: str, patch: StyleTemplatePatch) -> StyleTemplate:
        """Change the fields set on ``patch`` in one atomic update; a refused change writes nothing.

        Raises:
            ValidationError: the patch sets no field (the allowed ones are listed).
            NotFoundError: no such template.
            NameTaken: the new name is taken in the template's scope, ignoring case (code ``duplicate``).
        """
        changes = patch.changes()
        if not changes:
            raise ValidationError("patch", "sets no field", allowed=list(StyleTemplatePatch.model_fields))
        if current_scope() is not None and (await self.repos.style_templates.get(template_id)).project_id is None:
            _library_is_for_admins("change")
        return await self.repos.style_templates.update_fields(template_id, changes)

    async def delete(self, template_id: str, *, confirm: bool) -> StyleTemplateDeletion:
        """Delete a template and clear ``style_template_id`` on the clips using it, in one transaction where the
        backend has them.

        Raises:
            NotFoundError: no such template.
            InvalidStateError: clips use it and ``confirm`` is false (code ``confirmation-required``).
            ConflictError: concurrent changes kept aborting the transaction (retry).
        """
        template = await self.repos.style_templates.get(template_id)
        if template.project_id is None:
            _library_is_for_admins("delete")
        cleared, ids = await delete_referenced(
            self.repos, self.repos.style_templates, template, "style_template_id", confirm=confirm,
            used_as="applied to", tool="delete_style_template",
        )  # fmt: skip
        return StyleTemplateDeletion(id=template_id, project_id=template.project_id, name=template.name,
                                     clips_cleared=cleared, cleared_clip_ids=ids)

    async def apply(self, clip_id: str, template_id: str) -> StyleApplication:
        """Apply a template (the clip's project's or a library one) to a clip and count the use; applying the
        template the clip already has changes and counts nothing.

        Raises:
            NotFoundError: no such clip or template.
            ValidationError: the template belongs to another project (``template_id``).
            ConflictError: concurrent changes kept aborting the transaction (retry).
        """
        clip = await self.repos.clips.get(clip_id)
        template = await self.repos.style_templates.find(template_id)
        if template is None:
            raise NotFoundError("style template", template_id, hint=await self._candidates(clip.project_id))
        if template.project_id not in (None, clip.project_id):
            raise ValidationError(
                "template_id",
                f"style template '{template.name}' belongs to project {template.project_id}, not to the clip's "
                f"project {clip.project_id}",
                hint=await self._candidates(clip.project_id),
            )

        async def work(session: Any) -> tuple[str | None, StyleTemplate | None]:
            before = await self.repos.clips.swap_reference(clip_id, "style_template_id", template_id, session=session)
            if before is None:
                return None, None
            try:
                counted = await self.repos.style_templates.increment_use(template_id, session=session)
            except NotFoundError:
                if session is None:  # no transaction to roll back: undo the clip's change by hand
                    await self.repos.clips.restore_reference(clip_id, "style_template_id", expected=template_id,
                                                             previous=before.style_template_id)
                raise NotFoundError("style template", template_id, hint="it was deleted while being applied") from None
            return before.style_template_id, counted

        previous, counted = await self.repos.database.run_transaction(work)
        if counted is None:  # already applied: report the current count
            counted = await self.repos.style_templates.get(template_id)
            previous = template_id
        return StyleApplication(
            clip_id=clip_id, project_id=clip.project_id, style_template_id=template_id, template_name=counted.name,
            previous_style_template_id=previous, applied=previous != template_id, use_count=counted.use_count,
        )  # fmt: skip

    # -- helpers -----------------------------------------------------------------------------------------------
    async def _require_project(self, project_id: str) -> None:
        if not await self.repos.projects.exists(project_id):
            raise NotFoundError("project", project_id, hint=PROJECT_HINT)

    async def _undo_create(self, template_id: str) -> None:
        await self.repos.style_templates.delete(template_id)

    async def _candidates(self, project_id: str) -> str:
        pairs = await self.repos.style_templates.id_name_pairs([project_id, None], limit=HINT_NAMES + 1)
        if not pairs:
            return f"no style template is available to project {project_id}; create one with create_style_template"
        listed = ", ".join(f"{name} ({tid})" for tid, name in pairs[:HINT_NAMES])
        more = ", ..." if len(pairs) > HINT_NAMES else ""
        return f"templates available to project {project_id}: {listed}{more}"


def _library_is_for_admins(action: str) -> None:
    """Library templates are every user's: over HTTP only admins (who have no owner scope) may ``action`` them.

    Raises:
        ForbiddenError: the request is scoped to one user's projects (``db/owner_scope.py``).
    """
    if current_scope() is not None:
        raise ForbiddenError(f"library templates (no project_id) are shared by every user: only an admin may {action} "
                             "one", hint="give project_id to keep a template in your own project")
