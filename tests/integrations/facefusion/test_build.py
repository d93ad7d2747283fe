"""FaceFusion's settings, building the runner from them, and what ``doctor`` says about it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mcp_storyboard.cli import doctor_report
from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import ConfigError
from mcp_storyboard.integrations.facefusion.build import build_runner, facefusion_status
from mcp_storyboard.integrations.facefusion.runner import FaceFusionCliRunner
from mcp_storyboard.integrations.media_fetch import MediaFetcher
from mcp_storyboard.services.container import Services
from tests.integrations.facefusion.conftest import FAKE_FACEFUSION


def test_facefusion_settings_default_to_no_checkout_this_python_600_s_and_cpu() -> None:
    settings = Settings.from_env({})
    assert settings.facefusion_path is None
    assert (settings.facefusion_python, settings.facefusion_timeout_s) == (sys.executable, 600.0)
    assert settings.facefusion_execution_providers == ("cpu",)


def test_facefusion_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({"FACEFUSION_PATH": str(tmp_path), "FACEFUSION_PYTHON": "/opt/ff/bin/python",
                                  "FACEFUSION_TIMEOUT_S": "90.5", "FACEFUSION_EXECUTION_PROVIDERS": "CUDA, cpu cuda"})
    assert settings.facefusion_path == tmp_path
    assert (settings.facefusion_python, settings.facefusion_timeout_s) == ("/opt/ff/bin/python", 90.5)
    assert settings.facefusion_execution_providers == ("cuda", "cpu")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"FACEFUSION_TIMEOUT_S": "ten"}, "FACEFUSION_TIMEOUT_S 'ten' is not a number of seconds"),
        ({"FACEFUSION_TIMEOUT_S": "0"}, "FACEFUSION_TIMEOUT_S must be a positive number of seconds"),
        ({"FACEFUSION_TIMEOUT_S": "nan"}, "FACEFUSION_TIMEOUT_S must be a positive number of seconds"),
        ({"FACEFUSION_EXECUTION_PROVIDERS": "gpu cpu"}, "FACEFUSION_EXECUTION_PROVIDERS gpu is not a FaceFusion "
         "execution provider. Use one or more of: cuda, tensorrt, rocm, migraphx, coreml, openvino, qnn, directml, cpu"),
    ],
)
def test_bad_facefusion_settings_give_a_one_line_error_naming_the_variable(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert str(caught.value) == expected or str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("database", ["memory"], indirect=True)
async def test_build_runner_refuses_a_missing_checkout_naming_facefusion_path(database: Database, tmp_path: Path) -> None:
    services = Services.over(database)
    with pytest.raises(ConfigError, match=r"^FACEFUSION_PATH is not set\. Set FACEFUSION_PATH to a FaceFusion 3\.8"):
        build_runner(Settings.from_env({}), services)
    with pytest.raises(ConfigError, match=rf"^FACEFUSION_PATH '{tmp_path}' holds no facefusion\.py"):
        build_runner(Settings.from_env({"FACEFUSION_PATH": str(tmp_path)}), services)
    settings = Settings.from_env({"FACEFUSION_PATH": str(FAKE_FACEFUSION), "FACEFUSION_PYTHON": "/nonexistent/python"})
    with pytest.raises(ConfigError, match="FACEFUSION_PYTHON '/nonexistent/python' is not an executable Python"):
        build_runner(settings, services)


@pytest.mark.parametrize("database", ["memory"], indirect=True)
async def test_build_runner_runs_the_checkouts_facefusion_over_the_media_store(database: Database) -> None:
    settings = Settings.from_env({"FACEFUSION_PATH": str(FAKE_FACEFUSION), "FACEFUSION_TIMEOUT_S": "30",
                                  "FACEFUSION_EXECUTION_PROVIDERS": "cuda cpu", "STORYBOARD_MEDIA_ALLOW_PRIVATE": "1"})
    runner = build_runner(settings, Services.over(database))
    assert isinstance(runner, FaceFusionCliRunner)
    assert (runner.facefusion_path, runner.python, runner.timeout_s) == (FAKE_FACEFUSION, sys.executable, 30.0)
    assert runner.execution_providers == ("cuda", "cpu") and runner.media is database.media
    assert runner.fetcher.allow_private is True
    assert runner.describe() == (f"FaceFusion CLI {FAKE_FACEFUSION}/facefusion.py run by {sys.executable} "
                                 "(providers cuda, cpu; timeout 30 s)")


def test_doctor_says_where_facefusion_is_or_that_the_runner_is_missing_and_how_to_configure_it(tmp_path: Path) -> None:
    found = facefusion_status(Settings.from_env({"FACEFUSION_PATH": str(FAKE_FACEFUSION)}))
    assert found == f"{FAKE_FACEFUSION}/facefusion.py found; run by {sys.executable} (providers cpu, timeout 600 s)"
    missing = facefusion_status(Settings.from_env({}))
    assert missing.startswith("runner missing: FACEFUSION_PATH is not set; FaceFusion jobs will queue but not run")
    assert "set FACEFUSION_PATH to a FaceFusion 3.8 checkout" in missing
    empty = facefusion_status(Settings.from_env({"FACEFUSION_PATH": str(tmp_path)}))
    assert empty.startswith(f"runner missing: FACEFUSION_PATH '{tmp_path}' holds no facefusion.py")
    python = facefusion_status(Settings.from_env({"FACEFUSION_PATH": str(FAKE_FACEFUSION), "FACEFUSION_PYTHON": "nope"}))
    assert "FACEFUSION_PYTHON 'nope' is not executable; FaceFusion jobs will queue but not run" in python


@pytest.mark.parametrize("database", ["memory"], indirect=True)
async def test_the_doctor_report_has_a_facefusion_line(database: Database) -> None:
    settings = Settings(mongodb_uri="memory://", facefusion_path=FAKE_FACEFUSION)
    assert dict(await doctor_report(database, settings))["facefusion"].startswith(f"{FAKE_FACEFUSION}/facefusion.py found")


def test_a_relative_checkout_path_is_made_absolute_since_facefusion_runs_inside_it(tmp_path: Path) -> None:
    relative = Path(os.path.relpath(FAKE_FACEFUSION))
    runner = FaceFusionCliRunner(facefusion_path=relative, python=sys.executable, media=None,  # type: ignore[arg-type]
                                 fetcher=MediaFetcher(), timeout_s=1)
    assert runner.facefusion_path == FAKE_FACEFUSION
