"""server.json is a valid MCP Registry manifest that matches the package."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT.parent / "shared" / "reference" / "server.schema.2025-12-11.json"


def manifest() -> dict:
    return json.loads((ROOT / "server.json").read_text())


def test_server_json_is_valid_against_the_registry_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(manifest())


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
    assert listed == found | {"mcp_storyboard._prompts"}
