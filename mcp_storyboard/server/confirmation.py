"""The confirmation gate of destructive tools: nothing is deleted unless the caller or the user said yes.

Every tool whose annotations say ``destructiveHint: true`` (the taxonomy's ``delete`` operation, or a tool
declared destructive) takes :data:`ConfirmArg`. A call without ``confirm: true`` is not run as it stands:

- a client that declared form elicitation is asked (:class:`Elicit`, era-portable: ``elicitation/create`` on a
  2025-era connection, the ``InputRequiredResult`` round trip on a 2026-era one) and the tool runs only when the
  user accepts with ``confirm: true``; a decline, a cancel or an accept without yes changes nothing;
- any other client gets ``[confirmation-required]`` naming ``confirm: true``, and nothing changes (fail closed).

The question names the call and quotes the first sentence of the tool's description, which says what goes with it
(a project's scenes and clips, a clip's alternates), so the user's yes approves exactly what ``confirm: true``
would: the handler then runs with ``confirm=true``. The services keep their own cascade rules for callers that
reach them without this gate.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from mcp_storyboard.server.errors import error_result

if TYPE_CHECKING:
    from mcp_storyboard.server.registry import ToolSpec

CONFIRM_PARAM = "confirm"
CONFIRM_DESCRIPTION = "true to go ahead (with all it takes along); else the user is asked, or nothing changes."
ConfirmArg = Annotated[bool, Field(strict=True, description=CONFIRM_DESCRIPTION)]
"""The ``confirm`` argument every destructive tool declares (``confirm: ConfirmArg = False``)."""

INPUT_REQUIRED_VERSION = "2026-07-28"
"""The first protocol revision that elicits inside ``tools/call`` (``InputRequiredResult``)."""
_CONSENT_PARAM = "storyboard_consent"
"""The parameter the gate adds for the SDK to fill by running :func:`ask_consent` (never in the input schema)."""


class ConfirmDelete(BaseModel):
    """The form the user is shown: one yes/no."""

    confirm: bool = Field(description="Yes to go ahead; it cannot be undone.")


class Consent(BaseModel):
    """What the resolver decided without asking: confirmed by the argument, or the client cannot be asked."""

    confirmed: bool


def needs_confirmation(spec: ToolSpec) -> bool:
    """Whether ``spec``'s tool is gated: what its annotations tell the client is what the server enforces."""
    return spec.annotations.destructive_hint is True


def check_declaration(spec: ToolSpec) -> None:
    """Refuse a destructive tool that does not declare ``confirm: ConfirmArg = False`` (at import time).

    Raises:
        TypeError: the ``confirm`` argument is missing or declared differently.
    """
    parameter = inspect.signature(spec.handler).parameters.get(CONFIRM_PARAM)
    hints = inspect.get_annotations(spec.handler, eval_str=True)
    if parameter is None or parameter.default is not False or hints.get(CONFIRM_PARAM) != ConfirmArg:
        raise TypeError(f"tool {spec.name!r} is destructive: declare `confirm: ConfirmArg = False` "
                        "(mcp_storyboard.server.confirmation)")


def _can_elicit(ctx: Context[Any, Any]) -> bool:
    """Whether this client can be asked: form elicitation declared (a bare ``elicitation: {}`` counts, URL-only does
    not) and, before 2026-07-28, a back channel for the ``elicitation/create`` request."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return False
    version = ctx.protocol_version
    if version is not None and is_version_at_least(version, INPUT_REQUIRED_VERSION):
        return True  # the question rides the InputRequiredResult round trip: no back channel needed
    return bool(getattr(ctx.session, "can_send_request", True))


def question(spec: ToolSpec, arguments: dict[str, Any]) -> str:
    """What the user is asked: the call with its arguments, and what the tool does (its first sentence)."""
    named = ", ".join(f"{name}={value!r}" for name, value in arguments.items()
                      if name != CONFIRM_PARAM and value is not None)
    does = spec.description.split("\n\n", 1)[0].split(". ", 1)[0].rstrip(".")
    return f"Allow {spec.name}({named})? {does}. It cannot be undone."


def _ask(spec: ToolSpec, arguments: dict[str, Any], ctx: Context[Any, Any]) -> Consent | Elicit[ConfirmDelete]:
    if arguments.get(CONFIRM_PARAM) is True:
        return Consent(confirmed=True)
    if not _can_elicit(ctx):
        return Consent(confirmed=False)
    return Elicit(question(spec, arguments), ConfirmDelete)


def _refusal(tool: str, outcome: ElicitationResult[Any]) -> str | None:
    """The error text for a call that may not proceed, None when it may."""
    if isinstance(outcome, AcceptedElicitation):
        data = outcome.data
        if isinstance(data, ConfirmDelete) and data.confirm:
            return None
        if isinstance(data, Consent):
            if data.confirmed:
                return None
            return (f"[confirmation-required] {tool} deletes data, so it needs confirm: true; nothing changed. "
                    "Ask the user, then call it again with confirm: true")
    return f"[confirmation-declined] the user did not approve {tool}; nothing changed"


def gate(spec: ToolSpec, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """``fn`` (the guarded handler of ``spec``) behind the confirmation gate; ``fn`` itself when not destructive.

    The wrapper's signature is ``fn``'s plus a resolved parameter, so the input schema is unchanged and the SDK
    runs the resolver (and any elicitation) before the wrapper; the wrapper drops that parameter and either
    refuses or calls ``fn``.
    """
    if not needs_confirmation(spec):
        return fn
    check_declaration(spec)  # also checked when the tool is declared; specs can be built by hand
    tool = spec.name

    signature = inspect.signature(fn, eval_str=True)
    arguments = [p.replace(annotation=inspect.Parameter.empty, kind=inspect.Parameter.KEYWORD_ONLY)
                 for name, p in signature.parameters.items() if name != spec.context_param]

    async def ask_consent(ctx: Context, **named: Any) -> Consent | Elicit[ConfirmDelete]:  # type: ignore[type-arg]
        return _ask(spec, named, ctx)

    # The SDK hands a resolver the tool arguments it names: all of them, so the question says what goes.
    ask_consent.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context), *arguments])
    ask_consent.__annotations__ = {"ctx": Context, "return": Consent | Elicit[ConfirmDelete]}
    # One wire key per tool (``request_state`` of the 2026 round trip names the resolver by its qualname).
    ask_consent.__qualname__ = f"confirm_{tool}"

    @functools.wraps(fn)
    async def gated(**kwargs: Any) -> Any:
        refusal = _refusal(tool, kwargs.pop(_CONSENT_PARAM))
        if refusal is not None:
            return error_result(refusal)
        return await fn(**{**kwargs, CONFIRM_PARAM: True})  # the argument or the user's yes approved it all

    consent_type = Annotated[ElicitationResult[ConfirmDelete], Resolve(ask_consent)]
    consent = inspect.Parameter(_CONSENT_PARAM, inspect.Parameter.KEYWORD_ONLY, annotation=consent_type)
    gated.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), consent])
    gated.__annotations__ = {**inspect.get_annotations(spec.handler, eval_str=True), _CONSENT_PARAM: consent_type}
    return gated


__all__ = [
    "CONFIRM_DESCRIPTION",
    "ConfirmArg",
    "ConfirmDelete",
    "check_declaration",
    "gate",
    "needs_confirmation",
    "question",
]
