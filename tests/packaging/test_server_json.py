"""server.json is a valid MCP Registry manifest that matches the package."""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_NAME = "server.schema.2025-12-11.json"
# The MCP Registry's published schema is not part of the project (never copy it in). It is read from a reference
# folder beside the project, or from the file this variable names; without either, the validation test skips.
SCHEMA_VARIABLE = "STORYBOARD_SERVER_SCHEMA"
SCHEMA_BESIDE = ROOT.parent / "shared" / "reference" / SCHEMA_NAME


def manifest() -> dict:
    return json.loads((ROOT / "server.json").read_text())


def registry_schema() -> Path | None:
    """The registry schema beside the project, else the file ``$STORYBOARD_SERVER_SCHEMA`` names, else None."""
    if SCHEMA_BESIDE.is_file():
        return SCHEMA_BESIDE
    named = os.environ.get(SCHEMA_VARIABLE)
    return Path(named) if named else None


def test_server_json_is_valid_against_the_registry_schema() -> None:
    path = registry_schema()
    if path is None:
        pytest.skip(f"the MCP Registry schema is not at {SCHEMA_BESIDE} and ${SCHEMA_VARIABLE} is unset")
    schema = json.loads(path.read_text())
    jsonschema.Draft7Validator(schema).validate(manifest())


def test_the_schema_is_looked_up_beside_the_project_then_in_the_variable_then_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    named = tmp_path / SCHEMA_NAME
    monkeypatch.setenv(SCHEMA_VARIABLE, str(named))
    monkeypatch.setattr(sys.modules[__name__], "SCHEMA_BESIDE", tmp_path / "absent" / SCHEMA_NAME)
    assert registry_schema() == named
    monkeypatch.delenv(SCHEMA_VARIABLE)
    assert registry_schema() is None


def test_versions_match_the_package_and_are_exact() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    data = manifest()
    assert data["version"] == version
    assert [p["version"] for p in data["packages"]] == [version]
    assert data["$schema"].endswith("/2025-12-11/server.schema.json")


def test_readme_carries_the_mcp_name_marker() -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"mcp-name: {manifest()['name']}" in readme


def test_every_documented_environment_variable_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    names = [v["name"] for v in manifest()["packages"][0]["environmentVariables"]]
    assert "MONGODB_URI" in names
    missing = [n for n in names if not re.search(rf"`{n}`", readme)]
    assert missing == []


def test_the_database_uri_is_marked_secret_and_optional() -> None:
    uri = next(v for v in manifest()["packages"][0]["environmentVariables"] if v["name"] == "MONGODB_URI")
    assert uri["isSecret"] is True and uri["isRequired"] is False


def test_the_explicit_package_list_covers_every_package() -> None:
    from setuptools import find_packages

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set(find_packages(where=str(ROOT), include=["mcp_storyboard*"]))
    assert listed == found | {"mcp_storyboard._prompts", "mcp_storyboard._catalog"}
