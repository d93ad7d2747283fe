"""The zero-setup database: SecantusDB's server run as a child process, shared by every process on one data dir.

SecantusDB is GPL, so it is only ever run as a separate process (``secantusd-py``), never imported.

Its files live under ``<data_dir>/embedded/`` (listed in :mod:`mcp_storyboard.db.embedded_state`).

The server runs in its own session, so it outlives a parent killed with SIGKILL; the next ``start()`` on the
same data dir finds that orphan through ``server.json`` and reuses it (or stops it if it never answers).
The last user out signals the server and returns without waiting for its exit; a detached helper
(:mod:`mcp_storyboard.db.embedded_stop`) sees the stop through, and a start that comes meanwhile waits for it.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import datetime
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import IO

from mcp_storyboard.db import embedded_process as process
from mcp_storyboard.db import embedded_stop
from mcp_storyboard.db.embedded_state import Paths, State, read_state, write_state
from mcp_storyboard.errors import ConfigError, StoryboardError

try:
    import fcntl
except ImportError:  # Windows: no flock, and the process handling here is POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["EXECUTABLE_NAME", "EmbeddedServer", "find_executable"]

EXECUTABLE_NAME = "secantusd-py"
INSTALL_HINT = "install it with: pip install 'mcp-storyboard[embedded]' (or set MONGODB_URI to use your own MongoDB)"

# A server that was answering before gets this long to answer again before it counts as hung.
_REUSE_GRACE_SECONDS = 5.0
# How often a spawned server is probed for its listening socket: it answers ~1 s after spawning.
_READY_POLL_SECONDS = 0.02
# Spawns tried when the port picked for the server is taken by another program before the server binds it.
_SPAWN_ATTEMPTS = 3

log = logging.getLogger(__name__)


def find_executable() -> str | None:
    """The ``secantusd-py`` script installed next to this Python (same venv), else the one on ``PATH``."""
    beside = Path(sys.executable).parent / EXECUTABLE_NAME
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(EXECUTABLE_NAME)


def uri_for(port: int) -> str:
    """The connection URI of an embedded server listening on ``port``."""
    return f"mongodb://{process.HOST}:{port}/?directConnection=true"


class EmbeddedServer:
    """One process's use of the embedded SecantusDB server for a data dir.

    ``start()`` reuses a server another process (or a killed parent) left running on the same data dir, or
    spawns one; ``stop()`` releases this use and stops the server when no live user remains. Both block:
    async callers wrap them in ``anyio.to_thread.run_sync``. ``start_in_background()`` lets a caller do other
    work (imports, building the server) while the server boots.
    """

    def __init__(
        self, data_dir: Path, *, startup_timeout: float = 30.0, executable: str | None = None, stop_waits: bool = True
    ) -> None:
        """``stop_waits``: the default of ``stop(wait=...)``; False for a program that should exit at once."""
        # Canonical, because the storage path is matched against other processes' command lines.
        self._data_dir = Path(data_dir).expanduser().resolve()
        self._paths = Paths.under(self._data_dir)
        self._startup_timeout = startup_timeout
        self._executable = executable
        self._mutex = threading.Lock()
        self._port: int | None = None
        self._pid: int | None = None
        self._owned = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._client_file: Path | None = None
        self._atexit_registered = False
        self._background: Future[str] | None = None
        self._stop_waits = stop_waits

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

    def start_in_background(self) -> None:
        """Begin :meth:`start` in a thread and return at once; the next ``start()`` waits for it and returns its
        URI (or raises its error)."""
        if self._background is not None or self._port is not None:
            return
        background: Future[str] = Future()
        self._background = background

        def run() -> None:
            try:
                background.set_result(self._start())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller of start()
                background.set_exception(exc)

        threading.Thread(target=run, name="secantusd-start", daemon=True).start()

    def start(self) -> str:
        """Start or join the server for the data dir and return its URI. Calling it again returns the same URI.

        Raises:
            ConfigError: the executable is missing, the data dir is not writable, or the server exited or
                did not answer during startup (the message names the log file).
        """
        background, self._background = self._background, None
        if background is not None:
            return background.result()
        return self._start()

    def _start(self) -> str:
        with self._mutex:
            if self._port is not None:
                return uri_for(self._port)
            if fcntl is None:
                raise ConfigError(
                    "the embedded database is not supported on this platform", hint="set MONGODB_URI"
                )
            self._prepare_dirs()
            with process.flock(self._paths.lock, timeout=2 * self._startup_timeout + 30):
                running = self._find_running()
                if running is None:
                    pid, port = self._spawn()
                    owned = True
                else:
                    pid, port = running
                    owned = False
                # Registered under the lock: a concurrent stop() must see this user before deciding.
                self._client_file = process.register_client(self._paths.clients)
            self._pid, self._port, self._owned = pid, port, owned
            if not self._atexit_registered:
                atexit.register(self._stop_at_exit)
                self._atexit_registered = True
            log.info("embedded database %s on port %d (pid %d)", "started" if owned else "reused", port, pid)
            return uri_for(port)

    def stop(self, *, wait: bool | None = None) -> None:
        """Release this process's use; stop the server when no other live process uses it. Idempotent.

        With ``wait=False`` (default: ``stop_waits``) the server is sent SIGTERM and a detached helper sees its
        exit through, so this returns at once; a start on the same data dir meanwhile waits for it to exit.
        """
        wait = self._stop_waits if wait is None else wait
        with self._mutex:
            client_file = self._client_file
            if client_file is None:
                return
            port, proc = self._port, self._proc
            self._client_file = self._proc = self._port = self._pid = None
            self._owned = False
            with process.flock(self._paths.lock, timeout=2 * self._startup_timeout + 30):
                client_file.unlink(missing_ok=True)
                if process.prune_clients(self._paths.clients):
                    return
                state = read_state(self._paths.state)
                if not wait and state is not None and process.is_server_for(state.pid, self._paths.storage):
                    self._signal_stop(state, port)
                    return
                if state is not None:
                    process.terminate(state.pid, self._paths.storage, state.port)
                if proc is not None:  # ours even if the state file was lost
                    process.terminate(proc.pid, self._paths.storage, port)
                    _stop_child(proc)
                self._paths.state.unlink(missing_ok=True)

    def _signal_stop(self, state: State, port: int | None) -> None:
        """SIGTERM the server, mark it stopping, and leave the wait to the detached helper (called under the lock)."""
        port = state.port if state.port is not None else port
        signalled_at = time.time()
        process.send_signal(state.pid, signal.SIGTERM)
        write_state(self._paths.state, dataclasses.replace(state, port=port, stopping_since=signalled_at))
        if not embedded_stop.launch(self._paths, state.pid, port, signalled_at):
            process.await_exit(state.pid, self._paths.storage, port)  # no helper: wait here instead
            self._paths.state.unlink(missing_ok=True)

    def _stop_at_exit(self) -> None:
        try:
            self.stop(wait=False)
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
        state = read_state(self._paths.state)
        if state is None:
            return None
        if not process.is_server_for(state.pid, self._paths.storage):
            self._paths.state.unlink(missing_ok=True)
            return None
        if state.stopping_since is not None:
            # Its last user signalled it and left; it holds WiredTiger's lock until it exits.
            log.info("embedded database pid %d is stopping; waiting for it to exit", state.pid)
            process.await_exit(state.pid, self._paths.storage, state.port, max(0.0, time.time() - state.stopping_since))
            self._paths.state.unlink(missing_ok=True)
            return None
        if state.port is None:
            # Its parent died while it was starting: wait for it like our own child.
            port = self._await_port(state.pid, time.monotonic() + self._startup_timeout)
            grace = self._startup_timeout
        else:
            port, grace = state.port, _REUSE_GRACE_SECONDS
        if port is not None and process.await_ping(port, state.pid, time.monotonic() + grace):
            if state.port is None:
                write_state(self._paths.state, State(state.pid, port, state.started_at, state.storage_path))
            return state.pid, port
        # Alive but not answering: it holds WiredTiger's lock on the storage, so it must go first.
        log.warning("embedded database pid %d does not answer; stopping it", state.pid)
        process.terminate(state.pid, self._paths.storage)
        self._paths.state.unlink(missing_ok=True)
        return None

    def _await_port(self, pid: int, deadline: float) -> int | None:
        while process.is_server_for(pid, self._paths.storage):
            port = process.listening_port(self._paths.log)
            if port is not None or time.monotonic() > deadline:
                return port
            time.sleep(process.POLL_SECONDS)
        return None

    def _spawn(self) -> tuple[int, int]:
        executable = self._resolve_executable()
        self._paths.config.write_text(
            "# Written by mcp-storyboard. Passing an explicit config stops secantusd-py from reading\n"
            "# ./secantusd.toml, ~/.secantus/secantusd.toml or /etc/secantus/secantusd.toml.\n"
        )
        for _ in range(_SPAWN_ATTEMPTS - 1):
            # Another program may bind the port between our pick and the server's bind: then pick again.
            with contextlib.suppress(_PortTaken):
                return self._spawn_on(executable, process.free_port())
        try:
            return self._spawn_on(executable, process.free_port())
        except _PortTaken:
            raise ConfigError(
                f"the embedded database server found each of {_SPAWN_ATTEMPTS} free ports taken (log: {self._paths.log})",
                hint="retry, or set MONGODB_URI to use your own MongoDB",
            ) from None

    def _spawn_on(self, executable: str, port: int) -> tuple[int, int]:
        process.rotate_log(self._paths.log)
        command = [
            executable,
            "--config", str(self._paths.config),
            "--host", process.HOST,
            # Our pick, so readiness is a connection to a known port rather than polling the log for it.
            "--port", str(port),
            "--storage-path", str(self._paths.storage),
            "--log-level", "INFO",
        ]  # fmt: skip
        with self._paths.log.open("ab") as log_file:
            proc = _popen(command, log_file, cwd=self._paths.root)
        started_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        state = State(proc.pid, None, started_at, str(self._paths.storage))
        try:
            write_state(self._paths.state, state)
            self._await_ready(proc, port)
            write_state(self._paths.state, dataclasses.replace(state, port=port))
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

    def _await_ready(self, proc: subprocess.Popen[bytes], port: int) -> None:
        """Return once ``proc`` listens on ``port``: a connection is accepted, by our server, not a squatter."""
        deadline = time.monotonic() + self._startup_timeout
        while True:
            code = proc.poll()
            if code is not None:
                last_line = process.last_meaningful_line(self._paths.log)
                if "address already in use" in last_line.lower():
                    raise _PortTaken
                raise ConfigError(
                    f"the embedded database server exited during startup (exit code {code}): "
                    f"{last_line} (log: {self._paths.log})",
                    hint=_exit_hint(self._paths),
                )
            if process.accepts_connections(port) and process.listens_on(proc.pid, port):
                return
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"the embedded database server did not answer within {self._startup_timeout:g} s "
                    f"(log: {self._paths.log})",
                    hint="see the log; on a slow machine retry, or set MONGODB_URI to use your own MongoDB",
                )
            time.sleep(_READY_POLL_SECONDS)


class _PortTaken(Exception):
    """The server could not bind the port picked for it."""


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
            proc.wait(process.STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _exit_hint(paths: Paths) -> str:
    if "resource busy" not in process.last_meaningful_line(paths.log).lower():
        return "see the log, or set MONGODB_URI to use your own MongoDB"
    holders = ", ".join(str(pid) for pid in process.processes_using(paths.storage)) or "unknown"
    return (
        f"another process (pid {holders}) holds {paths.storage}; stop it, "
        "or set STORYBOARD_DATA_DIR to another directory"
    )
