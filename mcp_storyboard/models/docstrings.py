"""Field descriptions from attribute docstrings, read from each module's source once.

The models document their fields with a string under each one (``name: str`` then ``\"\"\"The name.\"\"\"``), which
pydantic's ``use_attribute_docstrings`` turns into field descriptions. On Python < 3.13 pydantic finds each class's
source by walking the call stack and asking ``inspect.getmodule`` about every frame, then tokenizes and parses that
class again: about 1.5 ms a model, a quarter of a second of every start for the ~175 models (measured with
``tests/benchmarks/bench_startup.py``). Here each module file is parsed once and the docstrings of all its classes
are kept by qualified name; :class:`~mcp_storyboard.models.common.StoryboardModel` applies them as each model is
created, with pydantic's rule (a string statement right after an annotated name, for a field without a
description of its own). ``tests/models/test_docstrings.py`` checks the result against pydantic's own extraction
for every model.
"""

from __future__ import annotations

import ast
import inspect
import sys
import tokenize
from functools import cache
from typing import Any

ClassDocs = dict[str, dict[str, str]]
"""Qualified class name -> field name -> docstring."""


def attribute_docstrings(cls: type[Any]) -> dict[str, str]:
    """The attribute docstrings written in ``cls``'s own body (empty when its source cannot be read)."""
    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return {}
    return _module_docs(path).get(cls.__qualname__, {})


@cache
def _module_docs(path: str) -> ClassDocs:
    try:
        with tokenize.open(path) as source:
            tree = ast.parse(source.read(), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    found: ClassDocs = {}
    _collect(tree.body, "", found)
    return found


def _collect(body: list[ast.stmt], prefix: str, found: ClassDocs) -> None:
    """Record every class in ``body`` (and in the classes and functions nested in it) under its ``__qualname__``."""
    for node in body:
        if isinstance(node, ast.ClassDef):
            qualname = prefix + node.name
            found.setdefault(qualname, _class_docs(node))
            _collect(node.body, qualname + ".", found)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _collect(node.body, f"{prefix}{node.name}.<locals>.", found)


def _class_docs(node: ast.ClassDef) -> dict[str, str]:
    """``field -> docstring`` for each annotated name directly followed by a string statement."""
    docs: dict[str, str] = {}
    for previous, statement in zip(node.body, node.body[1:], strict=False):
        if (
            isinstance(previous, ast.AnnAssign)
            and isinstance(previous.target, ast.Name)
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        ):
            docs[previous.target.id] = inspect.cleandoc(statement.value.value)
    return docs
