"""Contact sheets: a page of a storyboard's frames under scene headings, drawn with Pillow (``service.py``)."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.sheets.layout import SheetOptions
    from mcp_storyboard.services.sheets.service import ContactSheetService, RenderedPage, StoredSheet
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {
        "SheetOptions": ".layout", "ContactSheetService": ".service", "RenderedPage": ".service",
        "StoredSheet": ".service",
    })


def contact_sheet_uri(project_id: str) -> str:
    """The resource that renders page 1 of a project's contact sheet on read."""
    return f"storyboard://projects/{project_id}/contact-sheet.png"


__all__ = ["ContactSheetService", "RenderedPage", "SheetOptions", "StoredSheet", "contact_sheet_uri"]
