"""Stored media: upload, import, read, list and delete, with the references that keep them (``service``)."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.media.service import MediaService
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {"MediaService": ".service"})

__all__ = ["MediaService"]
