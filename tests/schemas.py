"""Walking JSON schemas and the package's models, shared by the tests of numbers and of free-form keys."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

import pydantic

import mcp_storyboard.models as models_package


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with a ``$ref`` into ``root``'s ``$defs`` followed."""
    if "$ref" in schema:
        return resolve(root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root)
    return schema


def number_branch(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The number/integer schema of a property (its non-null branch), or None when it takes no number."""
    for branch in [schema, *schema.get("anyOf", [])]:
        if branch.get("type") in ("number", "integer"):
            return branch
    return None


def model_classes() -> Iterator[type[pydantic.BaseModel]]:
    """Every concrete pydantic model defined in ``mcp_storyboard.models``."""
    import inspect

    for info in pkgutil.iter_modules(models_package.__path__):
        module = importlib.import_module(f"{models_package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, pydantic.BaseModel) and cls.__module__ == module.__name__
                    and not cls.__pydantic_generic_metadata__["parameters"]):
                yield cls
