"""ComfyUI over its HTTP API (``reference/comfyui-api.md``): the client and what a health check learns."""

from mcp_storyboard.integrations.comfyui.capabilities import (
    Capabilities,
    Device,
    capabilities_from,
)
from mcp_storyboard.integrations.comfyui.client import ComfyUIClient, ComfyUIUnreachable

__all__ = ["Capabilities", "ComfyUIClient", "ComfyUIUnreachable", "Device", "capabilities_from"]
