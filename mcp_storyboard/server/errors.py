"""Translate failures into what the model reads: ``[code] message. hint`` tool errors, logged with a request id.

Services raise the domain tree of :mod:`mcp_storyboard.errors`; only this module turns it into tool results.
Every tool handler is wrapped by :func:`guard` at registration, so no tool body catches anything itself:

- ``StoryboardError``            → ``[code] message. hint``
- pydantic ``ValidationError``   → ``[invalid-argument] field: msg; field: msg`` (raised below the tool layer)
- a result over 256 KB           → ``[too-large] ...`` and how to ask that tool for less (:func:`narrowing`)
- any other result               → the finished ``CallToolResult``: the structured content and its text copy (compact
  JSON), serialised once; its byte count is the size checked (:func:`finished_result`)
- anything else                  → ``[internal] ...`` with a request id; the traceback goes to the stderr log
- ``MCPError``                   → untouched: it is a protocol error on purpose
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

import pydantic
import pydantic_core
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, ImageContent, ResourceLink, TextContent

from mcp_storyboard.errors import StoryboardError

if TYPE_CHECKING:
    from mcp_storyboard.server.registry import ToolSpec

logger = logging.getLogger("mcp_storyboard.server")

RESULT_LIMIT_BYTES = 256 * 1024
"""The largest tool result (its JSON, UTF-8) the server sends; larger ones are refused, never truncated."""
_MAX_REPORTED_FIELDS = 8


def format_domain_error(exc: StoryboardError) -> str:
    """``[code] message. Hint`` — the one shape of every domain error the model reads (the sentence itself is the
    domain error's ``str``)."""
    return f"[{exc.code}] {exc}"


def format_validation_error(exc: pydantic.ValidationError) -> str:
    """``[invalid-argument] field: msg; field: msg`` without the rejected values (they are the caller's data)."""
    parts: list[str] = []
    for err in exc.errors(include_url=False, include_input=False)[:_MAX_REPORTED_FIELDS]:
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - len(parts)
    if more > 0:
        parts.append(f"and {more} more")
    return "[invalid-argument] " + "; ".join(parts)


def error_result(text: str) -> CallToolResult:
    """A tool result the model reads as a failure (``isError: true``)."""
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def structured(result: object) -> Any:
    """The result as the JSON-ready value the client receives as ``structuredContent`` (wire names)."""
    if isinstance(result, pydantic.BaseModel):
        return result.model_dump(mode="json", by_alias=True)
    return pydantic_core.to_jsonable_python(result, fallback=str, by_alias=True)


@runtime_checkable
class LinksResources(Protocol):
    """A result that names resources it produced (a FaceFusion job's output images): they go with it as
    ``resource_link`` blocks, so a host can fetch them by URI instead of receiving their bytes inline."""

    def resource_links(self) -> list[tuple[str, str]]:
        """``(uri, name)`` of each resource."""
        ...


@runtime_checkable
class ShowsImages(Protocol):
    """A result with small images for the model to look at (a contact sheet's preview): they go with it as
    ``image`` blocks after its resource links; their base64 counts towards the result limit."""

    def image_blocks(self) -> list[ImageContent]:
        """The images, base64 with their MIME types."""
        ...


@functools.cache
def _has_method(result_type: type, name: str) -> bool:
    """Whether results of ``result_type`` have method ``name``: what ``isinstance`` against :class:`ShowsImages` or
    :class:`LinksResources` answers, once per result type (a runtime protocol check costs ~20 us on every call)."""
    return callable(getattr(result_type, name, None))


def finished_result(
    content: Any, text: bytes, links: Sequence[tuple[str, str]] = (), images: Sequence[ImageContent] = ()
) -> CallToolResult:
    """A successful tool result: ``content`` structured, ``text`` (its compact JSON) as the text copy older
    clients read, then a resource link per ``(uri, name)`` of ``links``, then ``images``."""
    blocks: list[TextContent | ResourceLink | ImageContent] = [TextContent(type="text", text=text.decode())]
    blocks += [ResourceLink(type="resource_link", uri=uri, name=name) for uri, name in links]
    blocks += images
    return CallToolResult(content=list(blocks), structured_content=content)


def results_finished_by_guard(tool: Tool) -> Tool:
    """Let ``tool``'s guarded handler hand the SDK finished results.

    The SDK would otherwise serialise a returned model twice more (an indented text copy and the structured
    content) and validate a returned ``CallToolResult``'s content against the output model again. Handlers return
    pydantic models that were validated when they were built (mypy holds the return type to the declared one), so
    the published output schema stays and only that second validation goes.
    """
    tool.fn_metadata.output_model = None
    return tool


def too_large(tool: str, size: int, narrow: str) -> str:
    """The refusal for an oversized result: how big, the limit, and how to narrow the call."""
    limit = RESULT_LIMIT_BYTES // 1024
    return f"[too-large] the result of {tool} is {size // 1024} KB, over the {limit} KB limit. {narrow}"


def narrowing(spec: ToolSpec) -> str:
    """How to ask ``spec``'s tool for less; it names only arguments the tool has (or another tool to use)."""
    parameters = inspect.signature(spec.handler).parameters
    if "limit" in parameters and "cursor" in parameters:
        return "Ask for fewer items with limit and pass each next_cursor back as cursor"
    if spec.narrow_hint:
        return spec.narrow_hint[:1].upper() + spec.narrow_hint[1:]
    return "Ask for less: one item, or a narrower filter"


def _request_id(ctx: object) -> str:
    try:
        return ctx.request_id if isinstance(ctx, Context) else "-"
    except ValueError:  # a Context built outside a request
        return "-"


def guard(spec: ToolSpec) -> Callable[..., Awaitable[Any]]:
    """Wrap ``spec.handler`` so every failure becomes a coded tool error and oversized results are refused.

    The wrapper keeps the handler's signature (``functools.wraps``), so the SDK derives the same input and
    output schemas from it; on failure it returns an ``isError`` result directly, which the SDK passes through
    without prefixing its own "Error executing tool" text.
    """
    handler = spec.handler

    @functools.wraps(handler)
    async def guarded(**kwargs: Any) -> Any:
        try:
            result = await handler(**kwargs)
        except MCPError:
            raise
        except StoryboardError as exc:
            logger.info("tool %s refused (request %s): %s", spec.name, _request_id(kwargs.get(spec.context_param)),
                        exc.code)
            return error_result(format_domain_error(exc))
        except pydantic.ValidationError as exc:
            return error_result(format_validation_error(exc))
        except (ToolError, ResourceError) as exc:  # deliberate SDK-level failures, e.g. from ctx.read_resource
            return error_result(str(exc))
        except Exception:
            request_id = _request_id(kwargs.get(spec.context_param))
            logger.exception("tool %s failed unexpectedly (request %s)", spec.name, request_id)
            return error_result(
                f"[internal] {spec.name} failed unexpectedly (request id {request_id}); the cause is in the server log"
            )
        if isinstance(result, CallToolResult):  # a handler that builds its own result (e.g. an error)
            return result
        content = structured(result)
        text = pydantic_core.to_json(content)  # from plain JSON values: far cheaper than dumping the model again
        images = cast(ShowsImages, result).image_blocks() if _has_method(type(result), "image_blocks") else []
        size = len(text) + sum(len(image.data) for image in images)
        if size > RESULT_LIMIT_BYTES:
            logger.info("tool %s result refused: %d bytes", spec.name, size)
            return error_result(too_large(spec.name, size, narrowing(spec)))
        links = cast(LinksResources, result).resource_links() if _has_method(type(result), "resource_links") else ()
        return finished_result(content, text, links, images)

    return guarded
