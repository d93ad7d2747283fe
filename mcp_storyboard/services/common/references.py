"""Deleting a document that clips point at (a character, a style template): one shape for both.

Counts the clips referencing it, refuses without ``confirm`` when there are any, lists (some of) their ids,
deletes the document and clears the reference on those clips — in one transaction where the backend has them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp_storyboard.errors import InvalidStateError, NotFoundError

if TYPE_CHECKING:
    from mcp_storyboard.models.characters import Character
    from mcp_storyboard.models.style_templates import StyleTemplate
    from mcp_storyboard.repositories.base import Repository
    from mcp_storyboard.repositories.clips import ReferenceField
    from mcp_storyboard.repositories.bundle import Repositories


async def delete_referenced(
    repos: Repositories,
    owner: Repository[Any],
    document: Character | StyleTemplate,
    field: ReferenceField,
    *,
    confirm: bool,
    used_as: str,
    tool: str,
    note: str = "",
) -> tuple[int, list[str]]:
    """Delete ``document`` from ``owner`` and clear ``field`` on the clips pointing at it; returns how many clips
    were cleared and the ids of (at most 100 of) them.

    The refusal reads "{kind} '{name}' ({id}) is {used_as} {n} clip(s); deleting it clears {field} on them{note}"
    and its hint names ``tool``.

    Raises:
        NotFoundError: the document was deleted meanwhile.
        InvalidStateError: clips point at it and ``confirm`` is false (code ``confirmation-required``; nothing is
            deleted).
        ConflictError: concurrent changes kept aborting the transaction (retry).
    """
    doc_id = document.id

    async def work(session: Any) -> tuple[int, list[str]]:
        used = await repos.clips.count_references(field, doc_id, session=session)
        if used and not confirm:
            raise InvalidStateError(
                f"{owner.kind} '{document.name}' ({doc_id}) is {used_as} {used} clip(s); deleting it "
                f"clears {field} on them{note}",
                hint=f"call {tool} again with confirm=true to delete it",
                code="confirmation-required",
            )
        ids = await repos.clips.ids_referencing(field, doc_id, session=session)
        # The document goes first: an assignment racing with this delete checks afterwards that what it assigned
        # still exists, and undoes itself if not.
        if not await owner.delete(doc_id, session=session):
            raise NotFoundError(owner.kind, doc_id)
        cleared = await repos.clips.clear_reference(field, doc_id, session=session)
        return cleared, ids

    return await repos.database.run_transaction(work)
