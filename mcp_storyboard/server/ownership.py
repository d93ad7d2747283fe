"""Per-project authorization over HTTP: bind each non-admin caller's :class:`OwnerScope` to its requests.

The services of an authenticated server run over ``owner_scoped_view`` (``db/owner_scope.py``), which shows a
scoped request only the caller's projects and what belongs to them. This middleware makes the scope: it reads the
ids of the projects the caller owns (one indexed query), binds them for the request, and checks the two things a
query filter cannot see:

- ``storyboard://media/{id}`` links inside tool arguments (a clip's ``media_url``, a character's reference images,
  a project's thumbnail...): each must be a file of the caller's projects, or the call answers ``[not-found]``
  exactly as for a file that never existed;
- subscriptions (``resources/subscribe``, ``subscriptions/listen``): each URI's document must be visible to the
  caller (notifications would otherwise tell it when another user's project changes).

Admins, stdio and ``--no-auth`` callers get no scope: they see everything, as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from mcp_storyboard.errors import NotFoundError
from mcp_storyboard.server.auth import current_caller
from mcp_storyboard.server.errors import error_result, format_domain_error
from mcp_storyboard.server.scope import NEEDS_NO_SERVICES, current_services

if TYPE_CHECKING:
    from mcp_storyboard.services.container import Services

MEDIA_LINK = re.compile(r"^storyboard://media/([^/?#\s]+)$")
MAX_LINKS_CHECKED = 200
"""Media links checked in one call's arguments (a call with more is refused: no tool takes that many)."""


def media_links(arguments: Any) -> Iterator[str]:
    """The media ids of every ``storyboard://media/{id}`` string anywhere in ``arguments``."""
    if isinstance(arguments, str):
        found = MEDIA_LINK.match(arguments.strip())
        if found:
            yield found.group(1)
    elif isinstance(arguments, Mapping):
        for value in arguments.values():
            yield from media_links(value)
    elif isinstance(arguments, list):
        for value in arguments:
            yield from media_links(value)


async def check_media_links(services: Services, arguments: Any) -> None:
    """Refuse links to media the scoped caller may not see.

    Raises:
        NotFoundError: a linked file is not in the caller's projects (or does not exist).
    """
    links = list(dict.fromkeys(media_links(arguments)))
    if len(links) > MAX_LINKS_CHECKED:
        raise NotFoundError("media", links[MAX_LINKS_CHECKED], hint=f"link at most {MAX_LINKS_CHECKED} files a call")
    for media_id in links:
        await services.database.media.info(media_id)


SUBSCRIBABLE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), kind) for pattern, kind in (
        (r"^storyboard://projects/([^/]+)(/.*)?$", "project"),
        (r"^storyboard://scenes/([^/]+)$", "scene"),
        (r"^storyboard://clips/([^/]+)$", "clip"),
        (r"^storyboard://characters/([^/]+)(/facefusion)?$", "character"),
        (r"^storyboard://style-templates/([^/]+)$", "style template"),
        (r"^storyboard://facefusion-jobs/([^/]+)$", "facefusion job"),
        (r"^storyboard://facefusion-presets/([^/]+)$", "facefusion preset"),
        (r"^storyboard://generation-batches/([^/]+)$", "generation batch"),
        (r"^storyboard://render-jobs/([^/]+)$", "render job"),
        (r"^storyboard://media/([^/]+)$", "media"),
    )
)  # fmt: skip
"""The resource URIs that name a user's document, and its kind."""


async def check_visible(services: Services, uri: str) -> None:
    """Refuse a URI naming a document the scoped caller may not see (shared resources pass).

    Raises:
        NotFoundError: the document is not visible (or does not exist).
    """
    for pattern, kind in SUBSCRIBABLE:
        found = pattern.match(uri)
        if found is None:
            continue
        ident = found.group(1)
        if kind == "media":
            await services.database.media.info(ident)
            return
        repository = _repository(services, kind)
        if not await repository.exists(ident):
            raise NotFoundError(kind, ident)
        return


def subscribed_uris(method: str, params: Mapping[str, Any]) -> list[str]:
    """The resource URIs a request subscribes to: 2025-era ``resources/subscribe`` or 2026-era
    ``subscriptions/listen``."""
    if method == "resources/subscribe":
        uris: Any = [params.get("uri")]
    elif method == "subscriptions/listen":
        wanted = params.get("notifications")
        uris = wanted.get("resourceSubscriptions") if isinstance(wanted, Mapping) else None
    else:
        return []
    return [uri for uri in uris or () if isinstance(uri, str)]


def _repository(services: Services, kind: str) -> Any:
    repos = services.repositories
    return {
        "project": repos.projects, "scene": repos.scenes, "clip": repos.clips, "character": repos.characters,
        "style template": repos.style_templates, "facefusion job": services.facefusion.jobs,
        "facefusion preset": services.facefusion.presets.repo, "generation batch": services.generation.batches,
        "render job": services.renders.jobs,
    }[kind]  # fmt: skip


async def scope_to_owner(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Middleware: run a non-admin caller's request inside its :class:`OwnerScope` (see the module docstring)."""
    caller = current_caller()
    if caller is None or caller.is_admin or ctx.method in NEEDS_NO_SERVICES or ctx.method.startswith("notifications/"):
        return await call_next(ctx)
    services = current_services()
    async with services.acting_for(caller.user_id):
        params = ctx.params if isinstance(ctx.params, Mapping) else {}
        try:
            if ctx.method == "tools/call":
                await check_media_links(services, params.get("arguments"))
            else:
                for uri in subscribed_uris(ctx.method, params):
                    await check_visible(services, uri)
        except NotFoundError as exc:
            if ctx.method == "tools/call":
                return error_result(format_domain_error(exc)).model_dump(mode="json", by_alias=True,
                                                                         exclude_none=True)
            raise MCPError(code=INVALID_PARAMS, message=format_domain_error(exc)) from None
        return await call_next(ctx)
