"""Field descriptions from attribute docstrings, read from the source once per model class.

The models document their fields with a string under each one (``name: str`` then ``\"\"\"The name.\"\"\"``), which
pydantic's ``use_attribute_docstrings`` turns into field descriptions. On Python < 3.13 pydantic finds each class's
source by walking the call stack and asking ``inspect.getmodule`` about every frame, then tokenizes and parses the
class: about 1.5 ms a model, a quarter of a second of every start for the ~175 models (measured with
``tests/benchmarks/bench_startup.py``). Here each module's lines are read once and split at its top-level
statements, and only a model's own ``class`` block is parsed (a class nested in another or in a function, or a
name defined twice, parses the whole module instead); :class:`~mcp_storyboard.models.common.StoryboardModel`
applies the result as each model is created, with pydantic's rule (a string statement right after an annotated
name, for a field without a description of its own). ``tests/models/test_docstrings.py`` checks the result
against pydantic's own extraction for every model.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
import tokenize
from dataclasses import dataclass, field
from functools import cache
from typing import Any

_CLASS = re.compile(r"class\s+(\w+)")
_INSIDE = (" ", "\t", "\n", "\r", "#", ")", "]", "}")
"""How a line that does not start a top-level statement begins (indented, blank, a comment, a closing bracket)."""


@dataclass
class _Module:
    lines: list[str]
    classes: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """Top-level class name -> the line spans of its ``class`` statements."""


def attribute_docstrings(cls: type[Any]) -> dict[str, str]:
    """The attribute docstrings written in ``cls``'s own body (empty when its source cannot be read)."""
    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return {}
    source = _read(path)
    if source is None:
        return {}
    spans = source.classes.get(cls.__qualname__, [])
    if len(spans) == 1:
        start, end = spans[0]
        try:
            statement = ast.parse("".join(source.lines[start:end])).body[0]
        except SyntaxError:  # a top-level line inside the class (a string continued at column 0): the whole file
            statement = None
        if isinstance(statement, ast.ClassDef) and statement.name == cls.__qualname__:
            return _class_docs(statement)
    return _all_classes(path).get(cls.__qualname__, {})


@cache
def _read(path: str) -> _Module | None:
    try:
        with tokenize.open(path) as file:
            lines = file.readlines()
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    found = _Module(lines)
    current: tuple[str, int] | None = None
    for number, line in enumerate(lines):
        if not line or line.startswith(_INSIDE):
            continue
        if current is not None:
            found.classes.setdefault(current[0], []).append((current[1], number))
            current = None
        match = _CLASS.match(line)
        if match:
            current = (match.group(1), number)
    if current is not None:
        found.classes.setdefault(current[0], []).append((current[1], len(lines)))
    return found


@cache
def _all_classes(path: str) -> dict[str, dict[str, str]]:
    """Qualified class name -> its attribute docstrings, for every class of the module at ``path``."""
    source = _read(path)
    try:
        tree = ast.parse("".join(source.lines) if source else "", filename=path)
    except SyntaxError:
        return {}
    found: dict[str, dict[str, str]] = {}
    _collect(tree.body, "", found)
    return found


def _collect(body: list[ast.stmt], prefix: str, found: dict[str, dict[str, str]]) -> None:
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
