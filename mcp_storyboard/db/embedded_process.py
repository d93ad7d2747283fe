"""Process plumbing for the embedded server: liveness, pid-reuse guards, termination, client registrations.

Processes are inspected through psutil on every platform (command lines and create times), so a pid recorded in a
stale file and since reused by an unrelated program is never taken for our server, with or without ``/proc``.
POSIX only otherwise (signals, flock); kept apart from the start/stop decisions in
:mod:`mcp_storyboard.db.embedded`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from mcp_storyboard.errors import ConfigError

try:
    import fcntl
except ImportError:  # Windows: no flock; the embedded server is POSIX-only
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("mcp_storyboard.embedded")
LISTENING = re.compile(rb"secantus listening on [^\s:]+:(\d+)")

HOST = "127.0.0.1"
POLL_SECONDS = 0.1
STOP_GRACE_SECONDS = 10.0
RESIGNAL_SECONDS = 0.5
KILL_WAIT_SECONDS = 5.0
# Create times are derived from the boot time, which two readers may see a second apart; a reused pid starts later.
_SAME_START_SECONDS = 1.0
_PING_TIMEOUT_MS = 1000


def process_alive(pid: int) -> bool:
    """True for a running process; a zombie (exited, not yet reaped) counts as gone."""
    if pid <= 0:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # exists, owned by someone else


def process_create_time(pid: int) -> float | None:
    """When ``pid`` started (seconds since the epoch); None when it is gone or hidden from us."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _command_line(pid: int) -> list[str] | None:
    # A process that has just been spawned can show an empty command line for a moment: the kernel closes the
    # spawner's exec pipe (so Popen returns) before it writes the new program's arguments (seen 2 in 100 spawns).
    args: list[str] = []
    for _ in range(_EMPTY_CMDLINE_RETRIES):
        try:
            args = psutil.Process(pid).cmdline()
        except psutil.Error:  # gone, a zombie, or another user's process we may not inspect: not ours either way
            return None
        if args:
            return args
        time.sleep(0.005)
    return args


_EMPTY_CMDLINE_RETRIES = 40


def is_server_for(pid: int, storage: Path) -> bool:
    """True when ``pid`` is alive and its command line names ``storage``: our server, not a reused pid."""
    if not process_alive(pid):
        return False
    args = _command_line(pid)
    return args is not None and os.fsdecode(storage) in args


def processes_using(storage: Path) -> list[int]:
    """Pids of other processes whose command line names ``storage``."""
    target = os.fsdecode(storage)
    pids = []
    for proc in psutil.process_iter(["cmdline"]):
        if proc.pid != os.getpid() and target in (proc.info["cmdline"] or ()):
            pids.append(proc.pid)
    return pids


def terminate(pid: int, storage: Path, port: int | None = None) -> None:
    """SIGTERM (the server closes WiredTiger cleanly), then SIGKILL if it has not exited in time."""
    if not is_server_for(pid, storage):
        return
    send_signal(pid, signal.SIGTERM)
    await_exit(pid, storage, port)


def await_exit(pid: int, storage: Path, port: int | None, signalled_ago: float = 0.0) -> None:
    """Wait for a server sent SIGTERM ``signalled_ago`` seconds ago to exit: signal it again while it still
    listens (the first signal was lost), SIGKILL it if it has not exited within the grace period."""
    signalled = time.monotonic() - signalled_ago
    deadline = signalled + STOP_GRACE_SECONDS
    while process_alive(pid) and time.monotonic() < deadline:
        if port is not None and accepts_connections(port) and time.monotonic() - signalled >= RESIGNAL_SECONDS:
            # Still listening, so its handler never ran: CPython runs handlers in the main thread only, and a
            # signal landing just before that thread blocks in a lock wait is lost until another one arrives.
            if not is_server_for(pid, storage):
                return
            send_signal(pid, signal.SIGTERM)
            signalled = time.monotonic()
        time.sleep(POLL_SECONDS)
    if not is_server_for(pid, storage):
        return
    log.warning("embedded database pid %d did not stop within %g s of SIGTERM; killing it", pid, STOP_GRACE_SECONDS)
    send_signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)


def send_signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def accepts_connections(port: int) -> bool:
    """True when something listens on ``port``.

    The connection also matters: secantusd's shutdown joins its accept thread for up to 2 s, and closing the
    listening socket does not wake a blocked accept() on Linux; a connection does (stop takes ~0.1 s, not ~2.1 s).
    """
    try:
        with socket.create_connection((HOST, port), timeout=POLL_SECONDS):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick), for the server to bind."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def listens_on(pid: int, port: int) -> bool:
    """True when ``pid`` itself holds the listening socket on ``port`` (not some program that took the port)."""
    try:
        connections = psutil.Process(pid).net_connections("inet")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in connections)


def ping(port: int, timeout_ms: int = _PING_TIMEOUT_MS) -> bool:
    """True when a server on ``port`` answers ``ping``."""
    import pymongo  # here, not at import time: the start path spawns the server before the heavy imports
    from pymongo.errors import PyMongoError

    uri = f"mongodb://{HOST}:{port}/?directConnection=true"
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, appname="mcp-storyboard"
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def await_ping(port: int, pid: int, deadline: float) -> bool:
    """Ping until the server answers (True), ``pid`` is gone or ``deadline`` passes (False)."""
    while True:
        if ping(port):
            return True
        if time.monotonic() > deadline or not process_alive(pid):
            return False
        time.sleep(POLL_SECONDS)


# --- clients --------------------------------------------------------------------------------------------------


def register_client(clients: Path) -> Path:
    """A file naming this EmbeddedServer (one per instance, so two in one process don't release each other)."""
    pid = os.getpid()
    path = clients / f"{pid}-{secrets.token_hex(4)}"
    write_atomically(path, json.dumps({"pid": pid, "create_time": process_create_time(pid)}) + "\n")
    return path


def prune_clients(clients: Path) -> bool:
    """Remove files of clients that are gone; True when a live one remains."""
    live = False
    for path in clients.glob("*"):
        if path.name.startswith("."):
            continue
        if client_alive(path):
            live = True
        else:
            path.unlink(missing_ok=True)
    return live


def client_alive(path: Path) -> bool:
    try:
        raw = json.loads(path.read_text())
        pid = int(raw["pid"])
        recorded = raw.get("create_time")
        recorded = None if recorded is None else float(recorded)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if not process_alive(pid):
        return False
    # Same pid but a later start: the client died and its pid was reused.
    started = process_create_time(pid)
    return recorded is None or started is None or abs(started - recorded) < _SAME_START_SECONDS


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a reader sees the old or the new content, never a torn file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def rotate_log(log_path: Path) -> None:
    if log_path.exists():
        os.replace(log_path, log_path.with_name(log_path.name + ".1"))

def listening_port(log_path: Path) -> int | None:
    try:
        matches = LISTENING.findall(log_path.read_bytes())
    except FileNotFoundError:
        return None
    return int(matches[-1]) if matches else None

def last_meaningful_line(log_path: Path) -> str:
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    for line in reversed(lines):
        if line.strip():
            return line.strip()
    return "(empty log)"


@contextlib.contextmanager
def flock(path: Path, *, timeout: float) -> Iterator[None]:
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
                time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
