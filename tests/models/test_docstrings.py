"""Field descriptions from attribute docstrings (``models/docstrings.py``): the same as pydantic's
``use_attribute_docstrings`` gives, for every model of the package, read without pydantic's per-class stack walk."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from pydantic import Field
from pydantic._internal._docs_extraction import extract_docstrings_from_cls

import mcp_storyboard
from mcp_storyboard.models.common import Page, StoryboardModel
from mcp_storyboard.models.docstrings import attribute_docstrings


def all_models() -> list[type[StoryboardModel]]:
    """Every ``StoryboardModel`` subclass the package defines (each module imported)."""
    for info in pkgutil.walk_packages(mcp_storyboard.__path__, "mcp_storyboard."):
        if not info.name.endswith("__main__"):  # runs the command line
            importlib.import_module(info.name)
    found: list[type[StoryboardModel]] = []
    pending: list[type[Any]] = [StoryboardModel]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                pending.append(sub)
    return [m for m in found if m.__module__.startswith("mcp_storyboard.") and "[" not in m.__qualname__]


def test_every_model_gets_the_docstrings_pydantic_would_read() -> None:
    models = all_models()
    assert len(models) > 150  # the whole package, not a corner of it
    for model in models:
        assert attribute_docstrings(model) == extract_docstrings_from_cls(model, use_inspect=True), model.__qualname__


def test_docstrings_become_descriptions_and_an_explicit_description_wins() -> None:
    class Shot(StoryboardModel):
        lens: str
        """The lens, e.g. 35mm."""
        angle: str = Field(default="eye", description="Given explicitly.")
        """Not this one."""
        note: str = ""

    properties = Shot.model_json_schema()["properties"]
    assert properties["lens"]["description"] == "The lens, e.g. 35mm."
    assert properties["angle"]["description"] == "Given explicitly."
    assert "description" not in properties["note"]


def test_inherited_and_generic_fields_keep_their_descriptions() -> None:
    class Take(StoryboardModel):
        number: int
        """Which take."""

    class GoodTake(Take):
        rating: int = 5
        """Out of five."""

    schema = GoodTake.model_json_schema()["properties"]
    assert schema["number"]["description"] == "Which take."
    assert schema["rating"]["description"] == "Out of five."
    page = Page[GoodTake].model_json_schema()["properties"]
    assert page["items"]["description"] == "The items of this page, in list order."
    assert page["next_cursor"]["description"].startswith("Opaque cursor for the next page")
