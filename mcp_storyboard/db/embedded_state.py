"""The embedded server's files and its state file, shared by :mod:`mcp_storyboard.db.embedded` (start and stop
decisions) and :mod:`mcp_storyboard.db.embedded_stop` (the detached helper that sees a stop through).

Layout under ``<data_dir>/embedded/``::

    db/               the WiredTiger storage path (WiredTiger itself refuses a second server on it)
    server.json       state of the running server: pid, port (null while it starts), started_at, storage_path,
                      stopping_since (set when its last user signalled it to stop)
    secantusd.log     the server's output; the previous run's is kept as secantusd.log.1
    secantusd.toml    an explicit, empty config, so no ./secantusd.toml or ~/.secantus one changes our server
    clients/<pid>-<token>   one file per EmbeddedServer that uses the server; the last one out stops it
    .lock             flock held only around start and stop decisions
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from mcp_storyboard.db import embedded_process as process

log = logging.getLogger("mcp_storyboard.embedded")


@dataclass(frozen=True)
class Paths:
    root: Path
    storage: Path
    state: Path
    log: Path
    config: Path
    clients: Path
    lock: Path

    @classmethod
    def under(cls, data_dir: Path) -> Paths:
        return cls.at(data_dir / "embedded")

    @classmethod
    def at(cls, root: Path) -> Paths:
        return cls(
            root=root,
            storage=root / "db",
            state=root / "server.json",
            log=root / "secantusd.log",
            config=root / "secantusd.toml",
            clients=root / "clients",
            lock=root / ".lock",
        )


@dataclass(frozen=True)
class State:
    pid: int
    port: int | None
    """Null while the server starts."""
    started_at: str
    storage_path: str
    stopping_since: float | None = None
    """When its last user sent it SIGTERM (seconds since the epoch); a start waits for it to exit, never reuses it."""


def read_state(path: Path) -> State | None:
    try:
        raw = json.loads(path.read_text())
        port = raw["port"]
        stopping = raw.get("stopping_since")
        return State(
            pid=int(raw["pid"]),
            port=int(port) if port is not None else None,
            started_at=str(raw.get("started_at", "")),
            storage_path=str(raw.get("storage_path", "")),
            stopping_since=float(stopping) if stopping is not None else None,
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("ignoring unreadable embedded database state %s", path)
        return None


def write_state(path: Path, state: State) -> None:
    process.write_atomically(path, json.dumps(asdict(state), indent=2) + "\n")
