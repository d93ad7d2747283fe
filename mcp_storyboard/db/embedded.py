"""The zero-setup database: SecantusDB's server run as a child process, shared by every process on one data dir.

SecantusDB is GPL, so it is only ever run as a separate process (``secantusd-py``), never imported.

Layout under ``<data_dir>/embedded/``::

    db/               the WiredTiger storage path (WiredTiger itself refuses a second server on it)
    server.json       state of the running server: pid, port (null while it starts), started_at, storage_path
    secantusd.log     the server's output; the previous run's is kept as secantusd.log.1
    secantusd.toml    an explicit, empty config, so no ./secantusd.toml or ~/.secantus one changes our server
    clients/<pid>-<token>   one file per EmbeddedServer that uses the server; the last one out stops it
    .lock             flock held only around start and stop decisions

The server runs in its own session, so it outlives a parent killed with SIGKILL; the next ``start()`` on the
same data dir finds that orphan through ``server.json`` and reuses it (or stops it if it never answers).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import pymongo
from pymongo.errors import PyMongoError

from mcp_storyboard.errors import ConfigError, StoryboardError

try:
    import fcntl
except ImportError:  # Windows: no flock, and the process handling here is POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["EXECUTABLE_NAME", "EmbeddedServer", "find_executable"]

EXECUTABLE_NAME = "secantusd-py"
HOST = "127.0.0.1"
INSTALL_HINT = "install it with: pip install 'mcp-storyboard[embedded]' (or set MONGODB_URI to use your own MongoDB)"

_LISTENING = re.compile(rb"secantus listening on [^\s:]+:(\d+)")
_POLL_SECONDS = 0.1
_PING_TIMEOUT_MS = 1000
# A server that was answering before gets this long to answer again before it counts as hung.
_REUSE_GRACE_SECONDS = 5.0
_STOP_GRACE_SECONDS = 10.0
_RESIGNAL_SECONDS = 0.5
_KILL_WAIT_SECONDS = 5.0

log = logging.getLogger(__name__)


def find_executable() -> str | None:
    """The ``secantusd-py`` script installed next to this Python (same venv), else the one on ``PATH``."""
    beside = Path(sys.executable).parent / EXECUTABLE_NAME
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(EXECUTABLE_NAME)


def uri_for(port: int) -> str:
    """The connection URI of an embedded server listening on ``port``."""
    return f"mongodb://{HOST}:{port}/?directConnection=true"


@dataclass(frozen=True)
class _Paths:
    root: Path
    storage: Path
    state: Path
    log: Path
    config: Path
    clients: Path
    lock: Path

    @classmethod
    def under(cls, data_dir: Path) -> _Paths:
        root = data_dir / "embedded"
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
class _State:
    pid: int
    port: int | None
    started_at: str
    storage_path: str


class EmbeddedServer:
    """One process's use of the embedded SecantusDB server for a data dir.

    ``start()`` reuses a server another process (or a killed parent) left running on the same data dir, or
    spawns one; ``stop()`` releases this use and stops the server when no live user remains. Both block:
    async callers wrap them in ``anyio.to_thread.run_sync``.
    """

    def __init__(self, data_dir: Path, *, startup_timeout: float = 30.0, executable: str | None = None) -> None:
        # Canonical, because the storage path is matched against other processes' command lines.
        self._data_dir = Path(data_dir).expanduser().resolve()
        self._paths = _Paths.under(self._data_dir)
        self._startup_timeout = startup_timeout
        self._executable = executable
        self._mutex = threading.Lock()
        self._port: int | None = None
        self._pid: int | None = None
        self._owned = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._client_file: Path | None = None
        self._atexit_registered = False

    @property
    def uri(self) -> str | None:
        """The connection URI while started, else None."""
        return uri_for(self._port) if self._port is not None else None

    @property
    def port(self) -> int | None:
        """The server's TCP port on 127.0.0.1 while started, else None."""
        return self._port

    @property
    def pid(self) -> int | None:
        """The server's process id while started, else None."""
        return self._pid

    @property
    def owned(self) -> bool:
        """True when this process spawned the server (False when it reused a running one)."""
        return self._owned

    def start(self) -> str:
        """Start or join the server for the data dir and return its URI. Calling it again returns the same URI.

        Raises:
            ConfigError: the executable is missing, the data dir is not writable, or the server exited or
                did not answer during startup (the message names the log file).
        """
        with self._mutex:
            if self._port is not None:
                return uri_for(self._port)
            if fcntl is None:
                raise ConfigError(
                    "the embedded database is not supported on this platform", hint="set MONGODB_URI"
                )
            self._prepare_dirs()
            with _flock(self._paths.lock, timeout=2 * self._startup_timeout + 30):
                running = self._find_running()
                if running is None:
                    pid, port = self._spawn()
                    owned = True
                else:
                    pid, port = running
                    owned = False
                # Registered under the lock: a concurrent stop() must see this user before deciding.
                self._client_file = _register_client(self._paths.clients)
            self._pid, self._port, self._owned = pid, port, owned
            if not self._atexit_registered:
                atexit.register(self._stop_at_exit)
                self._atexit_registered = True
            log.info("embedded database %s on port %d (pid %d)", "started" if owned else "reused", port, pid)
            return uri_for(port)

    def stop(self) -> None:
        """Release this process's use; stop the server when no other live process uses it. Idempotent."""
        with self._mutex:
            client_file = self._client_file
            if client_file is None:
                return
            port, proc = self._port, self._proc
            self._client_file = self._proc = self._port = self._pid = None
            self._owned = False
            with _flock(self._paths.lock, timeout=2 * self._startup_timeout + 30):
                client_file.unlink(missing_ok=True)
                if _prune_clients(self._paths.clients):
                    return
                state = _read_state(self._paths.state)
                if state is not None:
                    _terminate(state.pid, self._paths.storage, state.port)
                if proc is not None:  # ours even if the state file was lost
                    _terminate(proc.pid, self._paths.storage, port)
                    _stop_child(proc)
                self._paths.state.unlink(missing_ok=True)

    def _stop_at_exit(self) -> None:
        try:
            self.stop()
        except (StoryboardError, OSError) as exc:
            log.warning("could not stop the embedded database cleanly: %s", exc)

    def _prepare_dirs(self) -> None:
        try:
            for directory in (self._paths.root, self._paths.storage, self._paths.clients):
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                if not os.access(directory, os.W_OK | os.X_OK):
                    raise PermissionError(13, "Permission denied", str(directory))
            self._paths.lock.touch(exist_ok=True)
        except OSError as exc:
            where = exc.filename or self._data_dir
            raise ConfigError(
                f"the data directory {self._data_dir} is not writable ({exc.strerror or exc}: {where})",
                hint="set STORYBOARD_DATA_DIR to a writable directory, or set MONGODB_URI",
            ) from None

    def _find_running(self) -> tuple[int, int] | None:
        """A live server recorded in the state file that answers ``ping``; otherwise clears the way to spawn."""
        state = _read_state(self._paths.state)
        if state is None:
            return None
        if not _is_server_for(state.pid, self._paths.storage):
            self._paths.state.unlink(missing_ok=True)
            return None
        if state.port is None:
            # Its parent died while it was starting: wait for it like our own child.
            port = self._await_port(state.pid, time.monotonic() + self._startup_timeout)
            grace = self._startup_timeout
        else:
            port, grace = state.port, _REUSE_GRACE_SECONDS
        if port is not None and _await_ping(port, state.pid, time.monotonic() + grace):
            if state.port is None:
                _write_state(self._paths.state, _State(state.pid, port, state.started_at, state.storage_path))
            return state.pid, port
        # Alive but not answering: it holds WiredTiger's lock on the storage, so it must go first.
        log.warning("embedded database pid %d does not answer; stopping it", state.pid)
        _terminate(state.pid, self._paths.storage)
        self._paths.state.unlink(missing_ok=True)
        return None

    def _await_port(self, pid: int, deadline: float) -> int | None:
        while _is_server_for(pid, self._paths.storage):
            port = _listening_port(self._paths.log)
            if port is not None or time.monotonic() > deadline:
                return port
            time.sleep(_POLL_SECONDS)
        return None

    def _spawn(self) -> tuple[int, int]:
        executable = self._resolve_executable()
        _rotate(self._paths.log)
        self._paths.config.write_text(
            "# Written by mcp-storyboard. Passing an explicit config stops secantusd-py from reading\n"
            "# ./secantusd.toml, ~/.secantus/secantusd.toml or /etc/secantus/secantusd.toml.\n"
        )
        command = [
            executable,
            "--config", str(self._paths.config),
            "--host", HOST,
            # Port 0: the server binds a free port itself (no race with other programs) and logs it at INFO.
            "--port", "0",
            "--storage-path", str(self._paths.storage),
            "--log-level", "INFO",
        ]  # fmt: skip
        with self._paths.log.open("ab") as log_file:
            proc = _popen(command, log_file, cwd=self._paths.root)
        started_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        state = _State(proc.pid, None, started_at, str(self._paths.storage))
        try:
            _write_state(self._paths.state, state)
            port = self._await_ready(proc)
            _write_state(self._paths.state, _State(proc.pid, port, started_at, state.storage_path))
        except BaseException:
            _stop_child(proc)
            self._paths.state.unlink(missing_ok=True)
            raise
        self._proc = proc
        # Reap it whenever it exits, so other processes never see a zombie as a live server.
        threading.Thread(target=proc.wait, name="secantusd-reaper", daemon=True).start()
        return proc.pid, port

    def _resolve_executable(self) -> str:
        executable = self._executable or find_executable()
        if executable is None:
            raise ConfigError("the embedded database needs SecantusDB, which is not installed", hint=INSTALL_HINT)
        if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
            raise ConfigError(
                f"the embedded database server {executable} is missing or not executable", hint=INSTALL_HINT
            )
        return executable

    def _await_ready(self, proc: subprocess.Popen[bytes]) -> int:
        deadline = time.monotonic() + self._startup_timeout
        port: int | None = None
        while True:
            code = proc.poll()
            if code is not None:
                raise ConfigError(
                    f"the embedded database server exited during startup (exit code {code}): "
                    f"{_last_meaningful_line(self._paths.log)} (log: {self._paths.log})",
                    hint=_exit_hint(self._paths),
                )
            if port is None:
                port = _listening_port(self._paths.log)
            if port is not None and _ping(port):
                return port
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"the embedded database server did not answer within {self._startup_timeout:g} s "
                    f"(log: {self._paths.log})",
                    hint="see the log; on a slow machine retry, or set MONGODB_URI to use your own MongoDB",
                )
            time.sleep(_POLL_SECONDS)


def _popen(command: list[str], log_file: IO[bytes], *, cwd: Path) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            # Own session: the server survives our SIGKILL (and the terminal's Ctrl-C); the next start reuses it.
            start_new_session=True,
        )
    except OSError as exc:
        raise ConfigError(f"could not run {command[0]}: {exc.strerror or exc}", hint=INSTALL_HINT) from None


def _stop_child(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _exit_hint(paths: _Paths) -> str:
    if "resource busy" not in _last_meaningful_line(paths.log).lower():
        return "see the log, or set MONGODB_URI to use your own MongoDB"
    holders = ", ".join(str(pid) for pid in _processes_using(paths.storage)) or "unknown"
    return (
        f"another process (pid {holders}) holds {paths.storage}; stop it, "
        "or set STORYBOARD_DATA_DIR to another directory"
    )


@contextlib.contextmanager
def _flock(path: Path, *, timeout: float) -> Iterator[None]:
    """An exclusive flock on ``path``; the kernel releases it if this process dies, so it never goes stale."""
    with path.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ConfigError(
                        f"another process kept {path} locked for {timeout:g} s",
                        hint="another mcp-storyboard is starting or stopping the embedded database; retry",
                    ) from None
                time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _read_state(path: Path) -> _State | None:
    try:
        raw = json.loads(path.read_text())
        port = raw["port"]
        return _State(
            pid=int(raw["pid"]),
            port=int(port) if port is not None else None,
            started_at=str(raw.get("started_at", "")),
            storage_path=str(raw.get("storage_path", "")),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("ignoring unreadable embedded database state %s", path)
        return None


def _write_state(path: Path, state: _State) -> None:
    _write_atomically(path, json.dumps(asdict(state), indent=2) + "\n")


def _write_atomically(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


def _rotate(log_path: Path) -> None:
    if log_path.exists():
        os.replace(log_path, log_path.with_name(log_path.name + ".1"))


def _listening_port(log_path: Path) -> int | None:
    try:
        matches = _LISTENING.findall(log_path.read_bytes())
    except FileNotFoundError:
        return None
    return int(matches[-1]) if matches else None


def _last_meaningful_line(log_path: Path) -> str:
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    for line in reversed(lines):
        if line.strip():
            return line.strip()
    return "(empty log)"


def _ping(port: int, timeout_ms: int = _PING_TIMEOUT_MS) -> bool:
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        uri_for(port), serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, appname="mcp-storyboard"
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _await_ping(port: int, pid: int, deadline: float) -> bool:
    while True:
        if _ping(port):
            return True
        if time.monotonic() > deadline or not _process_alive(pid):
            return False
        time.sleep(_POLL_SECONDS)


# --- processes ------------------------------------------------------------------------------------------------


def _proc_dir(pid: int) -> Path | None:
    proc = Path("/proc")
    return proc / str(pid) if (proc / "self").exists() else None


def _process_alive(pid: int) -> bool:
    """True for a running process; a zombie (exited, not yet reaped) counts as gone."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    stat = _proc_stat(pid)
    return stat is None or stat[0] != "Z"


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat from the state (field 3) on; None where there is no /proc."""
    proc_dir = _proc_dir(pid)
    if proc_dir is None:
        return None
    try:
        text = (proc_dir / "stat").read_text()
    except OSError:
        return ["X"]  # vanished between the kill(0) and here
    return text.rsplit(")", 1)[-1].split()


def _process_start_ticks(pid: int) -> int | None:
    stat = _proc_stat(pid)
    return int(stat[19]) if stat is not None and len(stat) > 19 else None


def _is_server_for(pid: int, storage: Path) -> bool:
    """True when ``pid`` is alive and (where /proc tells) is a server on ``storage``, not a reused pid."""
    if not _process_alive(pid):
        return False
    proc_dir = _proc_dir(pid)
    if proc_dir is None:
        return True
    try:
        args = (proc_dir / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return os.fsencode(storage) in args


def _processes_using(storage: Path) -> list[int]:
    """Pids whose command line names ``storage`` (empty where there is no /proc)."""
    if _proc_dir(os.getpid()) is None:
        return []
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and _is_server_for(int(entry.name), storage):
            pids.append(int(entry.name))
    return pids


def _terminate(pid: int, storage: Path, port: int | None = None) -> None:
    """SIGTERM (the server closes WiredTiger cleanly), then SIGKILL if it has not exited in time."""
    if not _is_server_for(pid, storage):
        return
    _signal(pid, signal.SIGTERM)
    signalled = time.monotonic()
    deadline = signalled + _STOP_GRACE_SECONDS
    while _process_alive(pid) and time.monotonic() < deadline:
        if port is not None and _accepts_connections(port) and time.monotonic() - signalled >= _RESIGNAL_SECONDS:
            # Still listening, so its handler never ran: CPython runs handlers in the main thread only, and a
            # signal landing just before that thread blocks in a lock wait is lost until another one arrives.
            if not _is_server_for(pid, storage):
                return
            _signal(pid, signal.SIGTERM)
            signalled = time.monotonic()
        time.sleep(_POLL_SECONDS)
    if not _is_server_for(pid, storage):
        return
    log.warning("embedded database pid %d did not stop within %g s of SIGTERM; killing it", pid, _STOP_GRACE_SECONDS)
    _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + _KILL_WAIT_SECONDS
    while _process_alive(pid) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _accepts_connections(port: int) -> bool:
    """True when something listens on ``port``.

    The connection also matters: secantusd's shutdown joins its accept thread for up to 2 s, and closing the
    listening socket does not wake a blocked accept() on Linux; a connection does (stop takes ~0.1 s, not ~2.1 s).
    """
    try:
        with socket.create_connection((HOST, port), timeout=_POLL_SECONDS):
            return True
    except OSError:
        return False


# --- clients --------------------------------------------------------------------------------------------------


def _register_client(clients: Path) -> Path:
    """A file naming this EmbeddedServer (one per instance, so two in one process don't release each other)."""
    pid = os.getpid()
    path = clients / f"{pid}-{secrets.token_hex(4)}"
    _write_atomically(path, json.dumps({"pid": pid, "start_ticks": _process_start_ticks(pid)}) + "\n")
    return path


def _prune_clients(clients: Path) -> bool:
    """Remove files of clients that are gone; True when a live one remains."""
    live = False
    for path in clients.glob("*"):
        if path.name.startswith("."):
            continue
        if _client_alive(path):
            live = True
        else:
            path.unlink(missing_ok=True)
    return live


def _client_alive(path: Path) -> bool:
    try:
        raw = json.loads(path.read_text())
        pid = int(raw["pid"])
        ticks = raw.get("start_ticks")
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if not _process_alive(pid):
        return False
    # Same pid but a different start time: the client died and its pid was reused.
    return ticks is None or _process_start_ticks(pid) in (None, ticks)
