"""ComfyUI servers: registration, health checks and what they can run (generation dispatch comes later)."""

from mcp_storyboard.services.comfyui.service import ComfyUIServerService
from mcp_storyboard.services.comfyui.views import SERVERS_URI, ServerDetails, ServerSummary, server_uri

__all__ = ["SERVERS_URI", "ComfyUIServerService", "ServerDetails", "ServerSummary", "server_uri"]
