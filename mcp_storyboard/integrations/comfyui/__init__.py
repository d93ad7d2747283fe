"""ComfyUI over its HTTP API (``reference/comfyui-api.md``): the client and what a health check learns."""

from mcp_storyboard.integrations.comfyui.capabilities import (
    CAPABILITY_NODES,
    Capabilities,
    Device,
    capabilities_from,
)
from mcp_storyboard.integrations.comfyui.client import ComfyUIClient, ComfyUIUnreachable

__all__ = ["CAPABILITY_NODES", "Capabilities", "ComfyUIClient", "ComfyUIUnreachable", "Device", "capabilities_from"]
