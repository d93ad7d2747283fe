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


SERVICES = PACKAGE / "services"


def _area_of(module: str) -> str | None:
    """``clips`` for ``mcp_storyboard.services.clips.placement``; None outside the service areas."""
    parts = module.split(".")
    if parts[:2] != ["mcp_storyboard", "services"] or len(parts) < 3 or parts[2] == "container":
        return None
    return parts[2]


def test_services_are_one_package_per_area_each_exporting_its_service() -> None:
    flat = sorted(p.name for p in SERVICES.glob("*.py") if p.name not in {"__init__.py", "container.py"})
    assert flat == [], "put each services module in its area's package"
    areas = sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists())
    assert {"characters", "clips", "media", "projects", "scenes", "styles"} <= set(areas)
    for area in set(areas) - {"common"}:
        tree = ast.parse((SERVICES / area / "__init__.py").read_text())
        exported = [
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        ]
        assert exported and any(name.endswith("Service") for name in exported[0]), f"services/{area} exports no service"


def test_services_never_import_the_container_that_builds_them() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in _modules("services")
        if path.name != "container.py" and "mcp_storyboard.services.container" in _imports(path)
    ]
    assert offenders == []


def test_service_areas_import_each_other_without_a_circle() -> None:
    edges: dict[str, set[str]] = {}
    for path in _modules("services"):
        area = _area_of("mcp_storyboard." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
        if area is None:
            continue
        edges.setdefault(area, set()).update(
            other for name in _imports(path) if (other := _area_of(name)) not in (None, area)
        )

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in edges.get(start, ()))

    circles = sorted(area for area in edges if reaches(area, area, {area}))
    assert circles == [], f"service areas in an import circle: {circles}; {edges}"


def test_services_compose_helpers_instead_of_mixing_them_in() -> None:
    """No class stands in for its host with ``if TYPE_CHECKING:`` stubs: a helper gets what it needs passed in."""
    offenders = [
        f"{path.relative_to(PACKAGE)}: class {node.name}"
        for path in _modules("services")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef)
        and any(isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test) for stmt in node.body)
    ]
    assert offenders == []
