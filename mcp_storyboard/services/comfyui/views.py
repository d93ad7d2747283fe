"""What the ComfyUI server service returns beyond the stored document: a health check's outcome."""

from __future__ import annotations

from collections.abc import Mapping

from mcp_storyboard.models.common import Document, StoryboardModel, UtcDatetime
from mcp_storyboard.models.generation import ComfyUIServer, ServerStatus
from mcp_storyboard.models.values import JsonObject

SERVERS_URI = "storyboard://comfyui-servers"


def server_uri(server_id: str) -> str:
    return f"{SERVERS_URI}/{server_id}"


class ServerSummary(StoryboardModel):
    """A server as lists and checks show it: status, when, why it failed, and what it offers as counts (the
    resource and get_comfyui_server list the names, which can run to hundreds per server)."""

    id: str
    uri: str
    name: str
    url: str
    is_active: bool
    status: ServerStatus
    last_check: UtcDatetime | None
    last_error: str | None
    comfyui_version: str | None
    checkpoints: int
    loras: int
    samplers: int
    devices: list[str]
    """Each device as "name (free/total VRAM GiB)"."""

    @classmethod
    def of(cls, server: ComfyUIServer) -> ServerSummary:
        caps = server.capabilities

        def count(key: str) -> int:
            value = caps.get(key)
            return len(value) if isinstance(value, list) else 0

        version = caps.get("comfyui_version")
        raw_devices = caps.get("devices")
        devices = [_device(d) for d in raw_devices if isinstance(d, dict)] if isinstance(raw_devices, list) else []
        return cls(
            id=server.id, uri=server_uri(server.id), name=server.name, url=server.url, is_active=server.is_active,
            status=server.status, last_check=server.last_check,
            last_error=server.last_error, comfyui_version=version if isinstance(version, str) else None,
            checkpoints=count("checkpoints"), loras=count("loras"), samplers=count("samplers"), devices=devices,
        )


class ServerDetails(Document):
    """A server as ``get_comfyui_server`` and its resource show it: everything stored except the credential, of
    which only its presence is told (``has_api_key``)."""

    name: str
    url: str
    is_active: bool
    status: ServerStatus
    last_check: UtcDatetime | None
    last_error: str | None
    max_concurrent: int
    has_api_key: bool
    capabilities: JsonObject

    @classmethod
    def of(cls, server: ComfyUIServer) -> ServerDetails:
        fields = server.model_dump(exclude={"api_key"})
        return cls(**fields, has_api_key=server.api_key is not None)


def _device(device: Mapping[str, object]) -> str:
    total, free = device.get("vram_total"), device.get("vram_free")
    if isinstance(total, int) and isinstance(free, int) and total > 0:
        return f"{device.get('name')} ({free / 2**30:.1f}/{total / 2**30:.1f} GiB free)"
    return str(device.get("name"))
