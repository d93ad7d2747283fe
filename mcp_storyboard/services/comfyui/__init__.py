"""ComfyUI servers: registration, health checks and what they can run (generation dispatch comes later)."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.comfyui.service import ComfyUIServerService
    from mcp_storyboard.services.comfyui.views import SERVERS_URI, ServerDetails, ServerSummary, server_uri
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {
        "ComfyUIServerService": ".service", "SERVERS_URI": ".views", "ServerDetails": ".views",
        "ServerSummary": ".views", "server_uri": ".views",
    })

__all__ = ["SERVERS_URI", "ComfyUIServerService", "ServerDetails", "ServerSummary", "server_uri"]
