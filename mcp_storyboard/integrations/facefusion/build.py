"""The FaceFusion runner from the settings, and the ``doctor`` line about it.

Without ``FACEFUSION_PATH`` the tools still queue FaceFusion jobs; a worker needs a runner, so building one
without a checkout is a ``ConfigError`` that says how to configure it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mcp_storyboard.config import Settings
from mcp_storyboard.errors import ConfigError
from mcp_storyboard.integrations.facefusion.runner import SCRIPT, FaceFusionCliRunner
from mcp_storyboard.integrations.media_fetch import MediaFetcher

if TYPE_CHECKING:
    from mcp_storyboard.db.connection import Database

CONFIGURE_HINT = "set FACEFUSION_PATH to a FaceFusion 3.8 checkout (the folder holding facefusion.py) and " \
                 "FACEFUSION_PYTHON to the Python of its environment"


class _OverDatabase(Protocol):
    """What the runner needs of ``services.container.Services`` (integrations do not import services)."""

    @property
    def database(self) -> Database: ...


def build_runner(settings: Settings, services: _OverDatabase) -> FaceFusionCliRunner:
    """The FaceFusion CLI runner (an ``OperationRunner``) over the services' media store.

    Raises:
        ConfigError: ``FACEFUSION_PATH`` is unset or holds no ``facefusion.py``, or ``FACEFUSION_PYTHON`` is not
            an executable.
    """
    script = _script(settings)
    python = shutil.which(settings.facefusion_python)
    if python is None:
        raise ConfigError(f"FACEFUSION_PYTHON '{settings.facefusion_python}' is not an executable Python",
                          hint="point it at the python of FaceFusion's environment")
    return FaceFusionCliRunner(
        facefusion_path=script.parent,
        python=python,
        media=services.database.media,
        fetcher=MediaFetcher(allow_private=settings.media_allow_private),
        timeout_s=settings.facefusion_timeout_s,
        execution_providers=settings.facefusion_execution_providers,
    )


def facefusion_status(settings: Settings) -> str:
    """One line for ``doctor``: where FaceFusion is and whether it can run, or what is missing and how to fix it."""
    try:
        script = _script(settings)
    except ConfigError as exc:
        return f"runner missing: {exc.message}; FaceFusion jobs will queue but not run ({CONFIGURE_HINT})"
    python = shutil.which(settings.facefusion_python)
    if python is None:
        return (f"{script} found, but FACEFUSION_PYTHON '{settings.facefusion_python}' is not executable; "
                "FaceFusion jobs will queue but not run")
    return (f"{script} found; run by {python} "
            f"(providers {', '.join(settings.facefusion_execution_providers)}, "
            f"timeout {settings.facefusion_timeout_s:g} s)")


def _script(settings: Settings) -> Path:
    path = settings.facefusion_path
    if path is None:
        raise ConfigError("FACEFUSION_PATH is not set", hint=CONFIGURE_HINT)
    script = path.expanduser().resolve() / SCRIPT
    if not script.is_file():
        raise ConfigError(f"FACEFUSION_PATH '{path}' holds no {SCRIPT}", hint=CONFIGURE_HINT)
    return script
