"""Timeline export and import (OpenTimelineIO): ``TimelineService``."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.export.service import ExportedTimeline, TimelineService
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {"ExportedTimeline": ".service", "TimelineService": ".service"})

__all__ = ["ExportedTimeline", "TimelineService"]
