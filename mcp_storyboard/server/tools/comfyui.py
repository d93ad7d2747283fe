"""ComfyUI servers: register, list, read, change, delete and health-check the servers generation runs on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.common import Page, StoryboardModel, Uuid
from mcp_storyboard.models.generation import (
    ComfyUIServer,
    ComfyUIServerPatch,
    ServerUrl,
)
from mcp_storyboard.models.values import NOT_BOOL, Name, PageSize
from mcp_storyboard.server.confirmation import ConfirmArg
from mcp_storyboard.server.completions import MAX_COMPLETIONS, CompletionRegistry
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.results import Written, created_fields, written
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.services.comfyui import SERVERS_URI, ServerDetails, ServerSummary, server_uri

TOOLSET: Toolset = "generation"
tool = ToolRegistry(TOOLSET)
complete = CompletionRegistry()

ServerId = Annotated[Uuid, Field(description="A ComfyUI server id.")]
Cursor = Annotated[str | None, Field(max_length=2000, description="next_cursor of the previous page.")]


class ServerPage(Page[ServerSummary]):
    """One page of servers by name; pass ``next_cursor`` back for the next page."""


class ServerDeletion(StoryboardModel):
    id: str
    name: str
    url: str


@tool(title="Register a ComfyUI server", operation="create")
async def register_comfyui_server(
    name: Name,
    url: Annotated[ServerUrl, Field(description="Base URL, e.g. http://127.0.0.1:8188 (normalised; unique).")],
    ctx: Context,
    is_active: Annotated[bool, Field(description="Whether generation may use it.")] = True,
    max_concurrent: Annotated[int, Field(ge=1, le=64, description="Prompts at once, 1-64."), NOT_BOOL] = 2,
    api_key: Annotated[str | None, Field(min_length=1, max_length=500,
                                         description="Bearer credential (e.g. RunPod); never shown.")] = None,
) -> Written:
    """Add a ComfyUI server; check_comfyui_server then probes it."""
    server = await get_services(ctx).comfyui.register(name, url, is_active=is_active, max_concurrent=max_concurrent,
                                                      api_key=api_key)
    await notify_changed(ctx, [server_uri(server.id)])
    return written_server(server, created_fields(server, "name", "url", "is_active"))


def written_server(server: ComfyUIServer, fields: list[str]) -> Written:
    """A write's compact result; a changed credential shows as ``has_api_key``, never as its value."""
    shown = ["has_api_key" if name == "api_key" else name for name in fields]
    return written(ServerDetails.of(server), server_uri(server.id), shown)


@tool(title="List ComfyUI servers", operation="read")
async def list_comfyui_servers(
    ctx: Context,
    active: Annotated[bool | None, Field(description="Only enabled (true) or disabled (false) servers.")] = None,
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Cursor = None,
) -> ServerPage:
    """Servers by name with status, last check and capability counts, paginated."""
    page = await get_services(ctx).comfyui.list_page(active=active, limit=limit, cursor=cursor)
    return ServerPage(items=[ServerSummary.of(s) for s in page.items], next_cursor=page.next_cursor)


@tool(title="Get a ComfyUI server", operation="read")
async def get_comfyui_server(server_id: ServerId, ctx: Context) -> ServerDetails:
    """One server: status, last check, last error, and its checkpoints, LoRAs, samplers, schedulers, devices."""
    return ServerDetails.of(await get_services(ctx).comfyui.get(server_id))


@tool(title="Update a ComfyUI server", operation="update")
async def update_comfyui_server(
    server_id: ServerId,
    patch: Annotated[ComfyUIServerPatch, Field(description="Only the fields to change.")],
    ctx: Context,
) -> Written:
    """Rename, move (a new URL clears the last check) or enable/disable a server."""
    server, fields = await get_services(ctx).comfyui.update(server_id, patch)
    await notify_changed(ctx, [server_uri(server_id)])
    return written_server(server, fields)


@tool(title="Delete a ComfyUI server", operation="delete")
async def delete_comfyui_server(server_id: ServerId, ctx: Context, confirm: ConfirmArg = False) -> ServerDeletion:
    """Remove a server from the registry."""
    server = await get_services(ctx).comfyui.delete(server_id)
    await notify_changed(ctx, [server_uri(server_id)])
    return ServerDeletion(id=server.id, name=server.name, url=server.url)


@tool(title="Check a ComfyUI server", operation="external", idempotent=True)
async def check_comfyui_server(server_id: ServerId, ctx: Context) -> ServerSummary:
    """Probe /system_stats and /object_info; store the status (online, offline, error) and capabilities."""
    server = await get_services(ctx).comfyui.check(server_id)
    await notify_changed(ctx, [server_uri(server_id)])
    return ServerSummary.of(server)


@complete(argument="server_id", prompt="*")
@complete(argument="server_id", template=f"{SERVERS_URI}/{{server_id}}")
async def complete_server_id(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    """Server ids whose id or name starts with the text (typing a server's name completes to its id)."""
    return [server_id for server_id, _ in await services.comfyui.complete(value, limit=MAX_COMPLETIONS + 1)]

