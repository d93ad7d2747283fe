"""Argument completion: completers declared per (prompt | resource template, argument), one dispatching handler.

A module declares completers the way it declares tools::

    complete = CompletionRegistry()

    @complete(argument="project_id", prompt="*")          # every prompt with a project_id argument
    @complete(argument="project_id", template="storyboard://projects/{project_id}")
    async def project_ids(value: str, context: Mapping[str, str], services: Services) -> list[str]:
        return await services.projects.ids_starting_with(value, limit=MAX_COMPLETIONS + 1)

``value`` is what the user typed so far (the completer filters on it); ``context`` holds the arguments already
resolved (e.g. ``project_id`` when completing ``scene_id``). At most :data:`MAX_COMPLETIONS` values reach the
client, with ``total`` and ``hasMore`` telling how many there were.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)

from mcp_storyboard.errors import StoryboardError
from mcp_storyboard.server.scope import current_services

logger = logging.getLogger(__name__)

MAX_COMPLETIONS = 100
"""The protocol's cap on values in one completion result."""
MAX_TYPED_LENGTH = 200
"""The longest typed value completed. No id or name is longer, and completers match it as a regex prefix, which
the embedded database refuses past 1,000 characters: a longer value answers no values, never an error."""
ANY = "*"

RefKind = Literal["prompt", "resource"]
Completer = Callable[[str, Mapping[str, str], Any], Awaitable[Sequence[str]]]
"""``(partial value, resolved arguments, services) -> candidate values``."""


@dataclass(frozen=True)
class CompleterSpec:
    """One completer for one argument of a prompt or resource template (``ref == "*"``: of every one)."""

    kind: RefKind
    ref: str
    argument: str
    fn: Completer = field(repr=False, compare=False)


class CompletionRegistry:
    """The completers one module declares; call it as a decorator (stackable)."""

    def __init__(self) -> None:
        self._specs: list[CompleterSpec] = []

    def __call__(
        self, *, argument: str, prompt: str | None = None, template: str | None = None
    ) -> Callable[[Completer], Completer]:
        """Declare the decorated function as the completer of ``argument`` of one prompt or one template.

        Raises:
            ValueError: neither or both of ``prompt`` and ``template`` are given.
        """
        if (prompt is None) == (template is None):
            raise ValueError("give exactly one of prompt= or template=")
        kind: RefKind = "prompt" if prompt is not None else "resource"
        ref = prompt if prompt is not None else template
        assert ref is not None

        def declare(fn: Completer) -> Completer:
            self._specs.append(CompleterSpec(kind=kind, ref=ref, argument=argument, fn=fn))
            return fn

        return declare

    def __iter__(self) -> Iterator[CompleterSpec]:
        return iter(self._specs)


def cap(values: Sequence[str]) -> Completion:
    """At most :data:`MAX_COMPLETIONS` distinct values (first occurrences, in order) with total and hasMore."""
    unique = list(dict.fromkeys(v for v in values if isinstance(v, str)))
    return Completion(values=unique[:MAX_COMPLETIONS], total=len(unique), has_more=len(unique) > MAX_COMPLETIONS)


Completers = Sequence[CompleterSpec] | Callable[[], Sequence[CompleterSpec]]
"""The completers, or how to find them on the first completion (the tool modules declaring them are imported
on first use: ``registry.DECLARATIONS``)."""
Table = dict[tuple[RefKind, str, str], Completer]


def completer_table(specs: Sequence[CompleterSpec]) -> Table:
    """The completers by (kind, ref, argument).

    Raises:
        ValueError: two completers for the same argument.
    """
    table: Table = {}
    for spec in specs:
        key = (spec.kind, spec.ref, spec.argument)
        if key in table:
            raise ValueError(f"two completers for {spec.kind} {spec.ref!r} argument {spec.argument!r}")
        table[key] = spec.fn
    return table


def install_completions(server: MCPServer[Any], specs: Completers) -> None:
    """Register the one ``completion/complete`` handler that dispatches to ``specs`` (the server must run the
    :func:`~mcp_storyboard.server.scope.bind_services` middleware, as ``build_server`` does). A callable ``specs``
    is called on the first completion, once; a sequence is checked now.

    An unknown prompt or resource template answers invalid-params (-32602); an argument without a completer
    answers no values. A completer's domain error is logged and answers no values: completion is a convenience.
    A typed value over :data:`MAX_TYPED_LENGTH` characters answers no values without reaching a completer.
    """
    tables: list[Table] = [] if callable(specs) else [completer_table(specs)]

    def completers() -> Table:
        if not tables:  # no await between the check and the append: one table even for parallel first calls
            tables.append(completer_table(cast(Callable[[], Sequence[CompleterSpec]], specs)()))
        return tables[0]

    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion:
        if isinstance(ref, PromptReference):
            kind: RefKind = "prompt"
            name = ref.name
            known = {p.name for p in await server.list_prompts()}
        else:
            kind = "resource"
            name = str(ref.uri)
            known = {t.uri_template for t in await server.list_resource_templates()}
        if name not in known:
            raise MCPError(code=INVALID_PARAMS, message=f"unknown {kind} {name!r}", data={"ref": name})
        table = completers()
        fn = table.get((kind, name, argument.name)) or table.get((kind, ANY, argument.name))
        if fn is None or len(argument.value) > MAX_TYPED_LENGTH:
            return Completion(values=[], total=0, has_more=False)
        resolved = dict(context.arguments or {}) if context is not None else {}
        try:
            values = await fn(argument.value, resolved, current_services())
        except StoryboardError as exc:
            logger.info("completion of %s %r argument %r failed: %s", kind, name, argument.name, exc)
            return Completion(values=[], total=0, has_more=False)
        return cap(values)

    # MCPServer.completion() is untyped in 2.3; the annotation restores the decorator's type.
    register: Callable[[Callable[..., Awaitable[Completion]]], object]
    register = server.completion()  # type: ignore[no-untyped-call]
    register(complete)
