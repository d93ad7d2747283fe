"""Timeline export and import (OpenTimelineIO): ``TimelineService``."""

from mcp_storyboard.services.export.service import ExportedTimeline, TimelineService

__all__ = ["ExportedTimeline", "TimelineService"]
