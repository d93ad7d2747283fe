"""Stored media: upload, import, read, list and delete, with the references that keep them (``service``)."""

from mcp_storyboard.services.media.service import MediaService

__all__ = ["MediaService"]
