"""ComfyUI over its HTTP API (``reference/comfyui-api.md``): the client, what a health check learns, and the runner
that turns a generation item into files."""

from mcp_storyboard.integrations.comfyui.capabilities import (
    CAPABILITY_NODES,
    Capabilities,
    Device,
    capabilities_from,
)
from mcp_storyboard.integrations.comfyui.client import ComfyUIClient, ComfyUIUnreachable
from mcp_storyboard.integrations.comfyui.outputs import GeneratedFile
from mcp_storyboard.integrations.comfyui.runner import ComfyUIPromptRunner, PollSchedule

__all__ = [
    "CAPABILITY_NODES", "Capabilities", "ComfyUIClient", "ComfyUIPromptRunner", "ComfyUIUnreachable", "Device",
    "GeneratedFile", "PollSchedule", "capabilities_from",
]
