"""Settings from the environment and CLI flags, validated with one-line errors."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit

import platformdirs

from mcp_storyboard.errors import ConfigError

Driver = Literal["pymongo", "motor"]
DRIVERS: tuple[str, ...] = get_args(Driver)
MEMORY_URI = "memory://"
DEFAULT_DB_NAME = "storyboard"
DEFAULT_MEDIA_MAX_BYTES = 100 * 1024 * 1024
DEFAULT_RATE_LIMIT_PER_MINUTE = 600
MAX_RATE_LIMIT_PER_MINUTE = 1_000_000
DEFAULT_FACEFUSION_TIMEOUT_S = 600.0
_DB_NAME_FORBIDDEN = set('/\\. "$*<>:|?')


def default_data_dir() -> Path:
    """The platform's per-user data directory for mcp-storyboard."""
    return Path(platformdirs.user_data_dir("mcp-storyboard", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to start. Build with :meth:`from_env`; every field is validated."""

    mongodb_uri: str | None = None
    """A ``mongodb://`` or ``mongodb+srv://`` URI, ``memory://``, or None for the embedded server."""
    db_name: str = DEFAULT_DB_NAME
    driver: Driver = "pymongo"
    data_dir: Path = field(default_factory=default_data_dir)
    media_max_bytes: int = DEFAULT_MEDIA_MAX_BYTES
    media_allow_private: bool = False
    """``import_media`` may fetch from loopback, link-local and private addresses (off: no server-side request
    forgery into the host's network)."""
    server_timeout_ms: int = 5000
    dynamic_toolsets: bool = False
    """Start with the storyboard toolset plus ``list_toolsets``/``enable_toolset``; clients enable the others."""
    facefusion_path: Path | None = None
    """The FaceFusion 3.8 checkout (the folder holding ``facefusion.py``); None: FaceFusion jobs queue, none run."""
    facefusion_python: str = field(default_factory=lambda: sys.executable)
    """The Python that runs FaceFusion (its own environment, with onnxruntime); default: this interpreter."""
    facefusion_timeout_s: float = DEFAULT_FACEFUSION_TIMEOUT_S
    """Seconds one FaceFusion run may take (model downloads on first use included) before it is killed."""
    facefusion_execution_providers: tuple[str, ...] = ("cpu",)
    """FaceFusion's ``--execution-providers`` (cuda, tensorrt, rocm, ..., cpu)."""
    civitai_base_url: str = "https://civitai.com/api/v1"
    """CivitAI's REST API; the only address the CivitAI tools call."""
    civitai_api_key: str | None = field(default=None, repr=False)
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT_PER_MINUTE
    """Tool calls a minute one API token may make over HTTP (kept in the database, so every process counts
    together); 0 turns the limit off."""
    """Sent as a Bearer token when set (never shown: repr=False keeps it out of every printed form)."""

    def __repr__(self) -> str:
        # The URI may carry a password, and every printed form of the settings (str, f-strings, logs, the repr of
        # a model holding them) goes through here: show it redacted. Defined here, so @dataclass keeps it.
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.repr}
        shown["mongodb_uri"] = None if self.mongodb_uri is None else redact_uri(self.mongodb_uri)
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in shown.items())})"

    def __post_init__(self) -> None:
        validate_uri(self.mongodb_uri)
        validate_db_name(self.db_name)
        if self.driver not in DRIVERS:
            raise ConfigError(
                f"STORYBOARD_DRIVER '{self.driver}' is not a driver",
                hint="set it to one of: " + ", ".join(DRIVERS),
            )
        if self.media_max_bytes <= 0:
            raise ConfigError("STORYBOARD_MEDIA_MAX_BYTES must be a positive number of bytes")
        validate_facefusion(self)
        if urlsplit(self.civitai_base_url).scheme not in ("http", "https") or not urlsplit(self.civitai_base_url).netloc:
            raise ConfigError(
                f"CIVITAI_BASE_URL '{self.civitai_base_url}' is not an http(s) URL", hint="e.g. https://civitai.com/api/v1"
            )

    @property
    def backend(self) -> Literal["memory", "embedded", "mongodb"]:
        if self.mongodb_uri is None:
            return "embedded"
        if self.mongodb_uri.startswith(MEMORY_URI):
            return "memory"
        return "mongodb"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read ``MONGODB_URI`` (or ``MONGO_URL``), ``DB_NAME``, ``STORYBOARD_DRIVER``, ``STORYBOARD_DATA_DIR``
        ``STORYBOARD_MEDIA_MAX_BYTES``, ``STORYBOARD_MEDIA_ALLOW_PRIVATE``, ``STORYBOARD_DYNAMIC_TOOLSETS`` and the
        ``FACEFUSION_*`` variables (``FACEFUSION_PATH``, ``FACEFUSION_PYTHON``, ``FACEFUSION_TIMEOUT_S``,
        ``FACEFUSION_EXECUTION_PROVIDERS``), ``CIVITAI_BASE_URL``, ``CIVITAI_API_KEY`` and ``STORYBOARD_RATE_LIMIT``; keyword overrides (from CLI flags) win when not None.

        Raises:
            ConfigError: a value is invalid; the message names the variable and the fix.
        """
        env = os.environ if env is None else env
        uri = env.get("MONGODB_URI") or env.get("MONGO_URL") or None
        values: dict[str, object] = {
            "mongodb_uri": uri.strip() if uri else None,
            "db_name": env.get("DB_NAME") or DEFAULT_DB_NAME,
            "driver": (env.get("STORYBOARD_DRIVER") or "pymongo").strip().lower(),
        }
        if env.get("STORYBOARD_DATA_DIR"):
            values["data_dir"] = Path(env["STORYBOARD_DATA_DIR"]).expanduser()
        if env.get("STORYBOARD_MEDIA_MAX_BYTES"):
            raw = env["STORYBOARD_MEDIA_MAX_BYTES"]
            try:
                values["media_max_bytes"] = int(raw)
            except ValueError:
                raise ConfigError(f"STORYBOARD_MEDIA_MAX_BYTES '{raw}' is not a whole number of bytes") from None
        if env.get("STORYBOARD_MEDIA_ALLOW_PRIVATE"):
            values["media_allow_private"] = _flag("STORYBOARD_MEDIA_ALLOW_PRIVATE", env["STORYBOARD_MEDIA_ALLOW_PRIVATE"])
        if env.get("STORYBOARD_DYNAMIC_TOOLSETS"):
            values["dynamic_toolsets"] = _flag("STORYBOARD_DYNAMIC_TOOLSETS", env["STORYBOARD_DYNAMIC_TOOLSETS"])
        values.update(_facefusion_env(env))
        if env.get("CIVITAI_BASE_URL", "").strip():
            values["civitai_base_url"] = env["CIVITAI_BASE_URL"].strip()
        if env.get("CIVITAI_API_KEY", "").strip():
            values["civitai_api_key"] = env["CIVITAI_API_KEY"].strip()
        if env.get("STORYBOARD_RATE_LIMIT", "").strip():
            raw = env["STORYBOARD_RATE_LIMIT"].strip()
            if not raw.isdigit() or int(raw) > MAX_RATE_LIMIT_PER_MINUTE:
                raise ConfigError(f"STORYBOARD_RATE_LIMIT '{raw}' is not a number of tool calls a minute",
                                  hint=f"use 0 (no limit) to {MAX_RATE_LIMIT_PER_MINUTE}, e.g. 600")
            values["rate_limit_per_minute"] = int(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values.get("data_dir"), str):
            values["data_dir"] = Path(str(values["data_dir"])).expanduser()
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _facefusion_env(env: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    if env.get("FACEFUSION_PATH", "").strip():
        values["facefusion_path"] = Path(env["FACEFUSION_PATH"].strip()).expanduser()
    if env.get("FACEFUSION_PYTHON", "").strip():
        values["facefusion_python"] = env["FACEFUSION_PYTHON"].strip()
    if env.get("FACEFUSION_TIMEOUT_S", "").strip():
        raw = env["FACEFUSION_TIMEOUT_S"]
        try:
            values["facefusion_timeout_s"] = float(raw)
        except ValueError:
            raise ConfigError(f"FACEFUSION_TIMEOUT_S '{raw}' is not a number of seconds", hint="e.g. 600") from None
    if env.get("FACEFUSION_EXECUTION_PROVIDERS", "").strip():
        raw = env["FACEFUSION_EXECUTION_PROVIDERS"].replace(",", " ")
        values["facefusion_execution_providers"] = tuple(dict.fromkeys(raw.lower().split()))
    return values


def validate_facefusion(settings: Settings) -> None:
    """Raise a ConfigError for FaceFusion settings that cannot work (whether the checkout exists is checked when
    a worker builds its runner, and shown by ``doctor``)."""
    from mcp_storyboard.integrations.facefusion.choices import EXECUTION_PROVIDERS

    timeout = settings.facefusion_timeout_s
    if not timeout > 0 or timeout == float("inf"):
        raise ConfigError(f"FACEFUSION_TIMEOUT_S must be a positive number of seconds (got {timeout:g})", hint="e.g. 600")
    unknown = [p for p in settings.facefusion_execution_providers if p not in EXECUTION_PROVIDERS]
    if unknown or not settings.facefusion_execution_providers:
        raise ConfigError(
            f"FACEFUSION_EXECUTION_PROVIDERS {' '.join(unknown) or '(empty)'} is not a FaceFusion execution provider",
            hint="use one or more of: " + ", ".join(EXECUTION_PROVIDERS),
        )
    if not settings.facefusion_python:
        raise ConfigError("FACEFUSION_PYTHON is empty", hint="unset it to run FaceFusion with this Python")


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} '{raw}' is not a yes/no value", hint="set it to 1 or 0")


def redact_uri(uri: str) -> str:
    """Drop user info and options from a URI: ``mongodb://user:pw@host/db?x=1`` → ``mongodb://***@host/db``."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return "***"
    # Everything before the last "@" goes, wherever it is: a password typed without percent-encoding may hold
    # "/", "?" or "@", and hiding a little too much beats showing part of a password.
    masked = "***@" if "@" in rest else ""
    return f"{scheme}://{masked}{rest.rsplit('@', 1)[-1].split('?', 1)[0]}"


def validate_uri(uri: str | None) -> None:
    """Raise a ConfigError for a URI that no backend accepts."""
    if uri is None or uri.startswith(MEMORY_URI):
        return
    if not uri.startswith(("mongodb://", "mongodb+srv://")):
        raise ConfigError(
            f"MONGODB_URI must start with mongodb://, mongodb+srv:// or memory:// (got '{redact_uri(uri)}')",
            hint="unset it to use the embedded database",
        )
    try:
        parts = urlsplit(uri)
        hosts = parts.netloc.rsplit("@", 1)[-1]
    except ValueError:
        raise ConfigError(f"MONGODB_URI '{redact_uri(uri)}' is not a valid URI") from None
    if not hosts:
        raise ConfigError(f"MONGODB_URI '{redact_uri(uri)}' names no host", hint="e.g. mongodb://localhost:27017")


def validate_db_name(name: str) -> None:
    """Raise a ConfigError for a database name MongoDB refuses."""
    if not name or len(name) > 63 or any(ch in _DB_NAME_FORBIDDEN for ch in name):
        raise ConfigError(
            f"DB_NAME '{name}' is not a valid database name",
            hint='use 1-63 characters without / \\ . " $ * < > : | ? or spaces',
        )
