"""Conventions as tests (STYLE.md #3): the layer rule, the public surface, and module size."""

from __future__ import annotations

import ast
from pathlib import Path

import mcp_storyboard

PACKAGE = Path(mcp_storyboard.__file__).parent
LINE_BUDGET = 400
OVER_BUDGET_ALLOWLIST: set[str] = set()
"""Modules allowed past the budget; this set only shrinks."""
DRIVER_MODULES = ("pymongo", "motor", "gridfs", "mongomock", "mongomock_motor", "bson")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _modules(sub: str) -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


def test_only_the_db_and_repository_layers_import_the_driver() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for sub in ("server", "services", "models")
        for path in _modules(sub)
        for name in _imports(path)
        if name.split(".")[0] in DRIVER_MODULES
    ]
    assert offenders == []


def test_the_server_layer_never_imports_the_database_layer_directly() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules("server")
        for name in _imports(path)
        if name.startswith("mcp_storyboard.db.") and name not in {"mcp_storyboard.db.media"}
    ]
    assert offenders == []


def test_models_know_nothing_of_the_other_layers() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules("models")
        for name in _imports(path)
        if name.startswith("mcp_storyboard.") and not name.startswith(("mcp_storyboard.models", "mcp_storyboard.errors"))
    ]
    assert offenders == []


def test_repositories_never_import_services_or_the_server() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules("repositories")
        for name in _imports(path)
        if name.startswith(("mcp_storyboard.services", "mcp_storyboard.server"))
    ]
    assert offenders == []


def test_no_module_exceeds_the_line_budget() -> None:
    over = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > LINE_BUDGET
    }
    assert set(over) <= OVER_BUDGET_ALLOWLIST, f"split these modules: {over}"


def test_the_public_surface_is_pinned() -> None:
    assert sorted(mcp_storyboard.__all__) == ["Settings", "__version__", "create_server"]


def test_integrations_never_import_services_repositories_or_the_server() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules("integrations")
        for name in _imports(path)
        if name.startswith(("mcp_storyboard.services", "mcp_storyboard.repositories", "mcp_storyboard.server"))
    ]
    assert offenders == []
