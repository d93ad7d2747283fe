"""Characters of a project: CRUD with unique names, and linking clips to them.

A clip points at its character through ``character_id``; its prompts are never touched here. The character's
trigger words, name, description, style notes and LoRA are composed into the prompts at generation time
(``prompt_composer``), so assigning twice changes nothing — the original app prefixed the stored prompts on every
apply and doubled them.

Names are unique within a project ignoring case, kept by a unique index on the stored ``name_key`` (see
``repositories/named.py``): a create or rename that loses the name writes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.models.characters import Character, CharacterChanges
from mcp_storyboard.models.common import StoryboardModel, UtcDatetime
from mcp_storyboard.models.facefusion import (
    FaceFusionOutputGallery,
    FaceFusionPreferredSettings,
)
from mcp_storyboard.services.common.parents import create_under
from mcp_storyboard.services.common.references import delete_referenced

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories

HINT_NAMES = 10
"""How many candidates an error's hint lists."""
PROJECT_HINT = "list_projects shows the project ids"


class CharacterSummary(StoryboardModel):
    """A character without its FaceFusion work (get_character shows that), as lists, create and update return it."""

    id: str
    """The character's id."""
    project_id: str
    """The project it belongs to."""
    name: str
    """Its name, unique within the project ignoring case."""
    description: str
    """Who the character is."""
    reference_images: list[str]
    """Reference image URLs."""
    lora: str | None
    """LoRA identifier (``name`` or ``name:weight``); composed prompts carry it as ``<lora:name:weight>``."""
    trigger_words: str | None
    """LoRA trigger words; composed prompts start with them."""
    style_notes: str | None
    """Style and appearance notes; composed prompts add them as ``Style: ...``."""
    clip_count: int
    """How many clips are assigned to the character."""
    created_at: UtcDatetime
    """When it was created (UTC)."""
    updated_at: UtcDatetime
    """When it last changed (UTC)."""


class CharacterDetails(CharacterSummary):
    """A character with its FaceFusion work (read-only here; FaceFusion tools change it)."""

    facefusion_history_count: int
    """How many FaceFusion operations ran on the character's images (failures included)."""
    facefusion_preferred_settings: FaceFusionPreferredSettings
    """The settings its FaceFusion operations default to (the FaceFusion defaults when none were chosen)."""
    facefusion_settings_customised: bool
    """Whether preferred settings were chosen for this character (false: the defaults above apply)."""
    facefusion_output_gallery: FaceFusionOutputGallery
    """Successful FaceFusion results by category."""


class CharacterPage(StoryboardModel):
    """One page of a project's characters by name; pass ``next_cursor`` back to get the next page."""

    items: list[CharacterSummary]
    """The characters of this page, by name."""
    next_cursor: str | None = None
    """Cursor of the next page; null on the last page."""


class CharacterDeletion(StoryboardModel):
    """What deleting a character did."""

    id: str
    """The deleted character's id."""
    project_id: str
    """Its project."""
    name: str
    """Its name."""
    clips_cleared: int
    """Clips whose ``character_id`` was cleared (their prompts are unchanged)."""
    cleared_clip_ids: list[str] = Field(default_factory=list)
    """Ids of (at most 100 of) those clips."""


class CharacterAssignment(StoryboardModel):
    """A clip's character after an assignment."""

    clip_id: str
    """The clip."""
    project_id: str
    """The clip's project."""
    character_id: str | None
    """The clip's character now (null: none)."""
    character_name: str | None
    """Its name."""
    previous_character_id: str | None
    """The character the clip had before."""
    changed: bool
    """False when the clip already had this character (nothing was written)."""


class CharacterService:
    """Characters and their clips; depends on the repositories only."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos

    # -- reads -------------------------------------------------------------------------------------------------
    async def get(self, character_id: str) -> CharacterDetails:
        """One character with its FaceFusion work and clip count.

        Raises:
            NotFoundError: no such character.
        """
        character = await self.repos.characters.get(character_id)
        return await self._details(character)

    async def list_page(
        self, project_id: str, *, name_contains: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> CharacterPage:
        """A project's characters by name, optionally those whose name contains some text (case-insensitive).

        Raises:
            NotFoundError: no such project.
            ValidationError: the cursor is not one of this list's.
        """
        await self._require_project(project_id)
        page = await self.repos.characters.page_summaries(
            project_id, name_contains=name_contains, limit=limit, cursor=cursor
        )
        counts = await self.repos.clips.reference_counts("character_id", [c.id for c in page.items])
        items = [_summary(c, counts.get(c.id, 0)) for c in page.items]
        return CharacterPage(items=items, next_cursor=page.next_cursor)

    async def complete(self, project_id: str | None, prefix: str, *, limit: int) -> list[tuple[str, str]]:
        """``(id, name)`` of characters (of one project, or all) whose name or id starts with ``prefix``."""
        return await self.repos.characters.id_name_pairs(project_id, prefix=prefix, limit=limit)

    # -- writes ------------------------------------------------------------------------------------------------
    async def create(self, project_id: str, name: str, **fields: Any) -> CharacterSummary:
        """Create a character in a project. ``fields``: description, reference_images, lora, trigger_words,
        style_notes (validated by the ``Character`` model).

        Raises:
            NotFoundError: no such project.
            NameTaken: the project has a character of that name, ignoring case (code ``duplicate``).
            pydantic.ValidationError: a field breaks its limits.
        """
        character = Character(project_id=project_id, name=name, **fields)
        # Under the project: the insert conflicts with the project's delete (services/common/parents.py).
        await create_under(
            self.repos.database, self.repos.projects, project_id,
            lambda session: self.repos.characters.insert(character, session=session),
            lambda _: self._undo_create(character.id), hint=PROJECT_HINT,
        )  # fmt: skip
        return _summary(character, 0)

    async def update(self, character_id: str, patch: CharacterChanges) -> CharacterSummary:
        """Change the fields set on ``patch`` in one atomic update (explicit null clears an optional field); a
        refused change writes nothing.

        Raises:
            ValidationError: the patch sets no field (the allowed ones are listed).
            NotFoundError: no such character.
            NameTaken: the new name is taken in the project, ignoring case (code ``duplicate``).
        """
        changes = patch.changes()
        if not changes:
            raise ValidationError("patch", "sets no field", allowed=list(CharacterChanges.model_fields))
        updated = await self.repos.characters.update_fields(character_id, changes)
        return _summary(updated, await self.repos.clips.count_references("character_id", character_id))

    async def delete(self, character_id: str, *, confirm: bool) -> CharacterDeletion:
        """Delete a character and clear ``character_id`` on every clip that points at it (nothing else changes),
        in one transaction where the backend has them.

        Raises:
            NotFoundError: no such character.
            InvalidStateError: clips point at it and ``confirm`` is false (code ``confirmation-required``; nothing
                is deleted).
            ConflictError: concurrent changes kept aborting the transaction (retry).
        """
        character = await self.repos.characters.get(character_id)
        cleared, ids = await delete_referenced(
            self.repos, self.repos.characters, character, "character_id", confirm=confirm, used_as="assigned to",
            tool="delete_character", note=" (their prompts stay as they are)",
        )  # fmt: skip
        return CharacterDeletion(id=character_id, project_id=character.project_id, name=character.name,
                                 clips_cleared=cleared, cleared_clip_ids=ids)

    async def assign(self, clip_id: str, character_id: str | None) -> CharacterAssignment:
        """Link a clip to a character of its own project (None unlinks). Idempotent; prompts are not changed.

        Raises:
            NotFoundError: no such clip or character.
            ValidationError: the character belongs to another project (``character_id``).
        """
        clip = await self.repos.clips.get(clip_id)
        character: Character | None = None
        if character_id is not None:
            character = await self.repos.characters.find(character_id)
            if character is None:
                raise NotFoundError("character", character_id, hint=await self._candidates(clip.project_id))
            if character.project_id != clip.project_id:
                raise ValidationError(
                    "character_id",
                    f"character '{character.name}' belongs to project {character.project_id}, not to the clip's "
                    f"project {clip.project_id}",
                    hint=await self._candidates(clip.project_id),
                )
        before = await self.repos.clips.swap_reference(clip_id, "character_id", character_id)
        if before is not None and character_id is not None and not await self.repos.characters.exists(character_id):
            await self.repos.clips.restore_reference(clip_id, "character_id", expected=character_id,
                                                     previous=before.character_id)
            raise NotFoundError("character", character_id, hint="it was deleted while being assigned")
        return CharacterAssignment(
            clip_id=clip_id,
            project_id=clip.project_id,
            character_id=character_id,
            character_name=character.name if character is not None else None,
            previous_character_id=before.character_id if before is not None else clip.character_id,
            changed=before is not None,
        )

    # -- helpers -----------------------------------------------------------------------------------------------
    async def _details(self, character: Character) -> CharacterDetails:
        used = await self.repos.clips.count_references("character_id", character.id)
        settings = character.facefusion_preferred_settings
        return CharacterDetails(
            **_summary(character, used).model_dump(),
            facefusion_history_count=len(character.facefusion_processing_history),
            facefusion_preferred_settings=settings or FaceFusionPreferredSettings(),
            facefusion_settings_customised=settings is not None,
            facefusion_output_gallery=character.facefusion_output_gallery,
        )

    async def _require_project(self, project_id: str) -> None:
        if not await self.repos.projects.exists(project_id):
            raise NotFoundError("project", project_id, hint=PROJECT_HINT)

    async def _undo_create(self, character_id: str) -> None:
        await self.repos.characters.delete(character_id)

    async def _candidates(self, project_id: str) -> str:
        pairs = await self.repos.characters.id_name_pairs(project_id, limit=HINT_NAMES + 1)
        if not pairs:
            return f"project {project_id} has no characters yet; create one with create_character"
        listed = ", ".join(f"{name} ({cid})" for cid, name in pairs[:HINT_NAMES])
        more = ", ..." if len(pairs) > HINT_NAMES else ""
        return f"characters in project {project_id}: {listed}{more}"


def _summary(character: Character, clip_count: int) -> CharacterSummary:
    return CharacterSummary(
        id=character.id, project_id=character.project_id, name=character.name, description=character.description,
        reference_images=list(character.reference_images), lora=character.lora,
        trigger_words=character.trigger_words, style_notes=character.style_notes, clip_count=clip_count,
        created_at=character.created_at, updated_at=character.updated_at,
    )  # fmt: skip

