"""Starting and releasing the embedded server quickly: a start in the background, readiness on a port we pick,
a release that signals the server and returns at once, a detached helper that sees the stop through, and a start
that comes while the previous server is still stopping."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pymongo
import pytest

from mcp_storyboard.db import embedded_process
from mcp_storyboard.db.embedded import EmbeddedServer, find_executable
from mcp_storyboard.errors import ConfigError

pytestmark = pytest.mark.slow

needs_secantus = pytest.mark.skipif(find_executable() is None, reason="secantusd-py is not installed")

ServerFactory = Callable[..., EmbeddedServer]
DEADLINE_SECONDS = 60.0

# A stand-in for secantusd-py that behaves as the tests need: it binds the --port it is given, counts SIGTERMs,
# closes its socket after SIGTERMS_TO_STOP of them, then (in the slow variant) exits only once the test creates
# <embedded>/release, like a server still closing its storage.
_FAKE_SERVER = """\
import pathlib, signal, socket, sys, time
SIGTERMS_TO_STOP = {sigterms}
WAIT_FOR_RELEASE = {wait_for_release}
args = sys.argv[1:]
port = int(args[args.index("--port") + 1])
root = pathlib.Path(args[args.index("--storage-path") + 1]).parent
signals = []
signal.signal(signal.SIGTERM, lambda *_: signals.append(1))
sock = socket.socket()
sock.bind(("127.0.0.1", port))
sock.listen()
sock.settimeout(0.05)
print(f"secantus listening on 127.0.0.1:{{port}}", flush=True)
while len(signals) < SIGTERMS_TO_STOP:
    try:
        sock.accept()[0].close()
    except OSError:
        pass
sock.close()
deadline = time.monotonic() + 60
while WAIT_FOR_RELEASE and not (root / "release").exists() and time.monotonic() < deadline:
    time.sleep(0.02)
"""


def _fake_server(tmp_path: Path, *, sigterms: int = 1, wait_for_release: bool = False) -> str:
    path = tmp_path / f"fake-secantusd-{sigterms}-{int(wait_for_release)}"
    body = _FAKE_SERVER.format(sigterms=sigterms, wait_for_release=wait_for_release)
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def _users_of(root: Path) -> list[int]:
    prefix = os.fsdecode(root)
    return [
        proc.pid
        for proc in psutil.process_iter(["cmdline"])
        if proc.pid != os.getpid() and any(arg.startswith(prefix) for arg in proc.info["cmdline"] or ())
    ]


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {DEADLINE_SECONDS:g} s"
        time.sleep(0.05)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[ServerFactory]:
    """EmbeddedServers under tmp_path; afterwards every process naming tmp_path is killed, even on failure."""
    made: list[EmbeddedServer] = []

    def make(data_dir: Path = tmp_path / "data", **kwargs: object) -> EmbeddedServer:
        server = EmbeddedServer(data_dir, **kwargs)  # type: ignore[arg-type]
        made.append(server)
        return server

    try:
        yield make
    finally:
        (tmp_path / "data" / "embedded" / "release").parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / "embedded" / "release").touch()
        for server in made:
            try:
                server.stop()
            except Exception:  # noqa: BLE001 - cleanup must go on
                pass
        for pid in _users_of(tmp_path):
            embedded_process.send_signal(pid, signal.SIGKILL)


def _state(data_dir: Path) -> dict[str, object] | None:
    path = data_dir / "embedded" / "server.json"
    return json.loads(path.read_text()) if path.exists() else None


def test_a_release_returns_while_the_server_still_stops_and_a_new_start_waits_for_it(
    servers: ServerFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    fake = _fake_server(tmp_path, wait_for_release=True)
    first = servers(data_dir, executable=fake)
    first.start()
    old_pid = first.pid
    assert old_pid is not None

    first.stop(wait=False)
    # It only exits once the test creates the release file: stop() did not wait for it.
    assert embedded_process.is_server_for(old_pid, data_dir / "embedded" / "db")
    state = _state(data_dir)
    assert state is not None and state["pid"] == old_pid and state["stopping_since"] is not None

    second = servers(data_dir, executable=fake)
    started: list[str] = []
    starter = threading.Thread(target=lambda: started.append(second.start()))
    starter.start()
    starter.join(timeout=1.0)
    assert starter.is_alive() and not started, "a start must not proceed while the old server holds the storage"
    (data_dir / "embedded" / "release").touch()
    starter.join(timeout=DEADLINE_SECONDS)
    assert started, "the start never completed after the old server exited"

    assert not embedded_process.process_alive(old_pid)
    assert second.owned and second.pid != old_pid
    new_state = _state(data_dir)
    assert new_state is not None and new_state["pid"] == second.pid and new_state.get("stopping_since") is None


def test_a_stop_signal_the_server_lost_is_sent_again_by_the_helper(servers: ServerFactory, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = servers(data_dir, executable=_fake_server(tmp_path, sigterms=2))
    server.start()
    pid = server.pid
    assert pid is not None

    server.stop(wait=False)  # this process sends one SIGTERM; the fake stops on the second

    _wait_until(lambda: not embedded_process.process_alive(pid), "the server's exit")
    _wait_until(lambda: _state(data_dir) is None, "the helper clearing the state file")


def test_a_port_taken_before_the_server_binds_it_is_replaced_by_another(
    servers: ServerFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()  # accepts connections, so only a check of who listens tells it from our server
    taken = squatter.getsockname()[1]
    picks = iter([taken, embedded_process.free_port()])
    monkeypatch.setattr(embedded_process, "free_port", lambda: next(picks))
    try:
        server = servers(executable=_fake_server(tmp_path))
        server.start()
    finally:
        squatter.close()
    assert server.port is not None and server.port != taken
    assert server.pid is not None and embedded_process.listens_on(server.pid, server.port)


def test_a_background_start_hands_its_error_to_start(servers: ServerFactory) -> None:
    server = servers(executable="/nonexistent/secantusd-py")
    server.start_in_background()
    with pytest.raises(ConfigError, match=r"pip install 'mcp-storyboard\[embedded\]'"):
        server.start()
    assert server.uri is None


@needs_secantus
def test_a_background_start_gives_start_the_server_and_a_quick_restart_keeps_the_data(
    servers: ServerFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = servers(data_dir)
    first.start_in_background()
    uri = first.start()
    assert uri == first.uri and first.owned
    with pymongo.MongoClient(uri) as client:
        client.storyboard.notes.insert_one({"by": "first"})
    old_pid = first.pid

    first.stop(wait=False)
    second = servers(data_dir)
    second_uri = second.start()  # at once: the first server may still be closing its storage

    assert second.owned and second.pid != old_pid
    with pymongo.MongoClient(second_uri) as client:
        assert [doc["by"] for doc in client.storyboard.notes.find()] == ["first"]
    assert old_pid is not None and not embedded_process.process_alive(old_pid)
    second.stop()
    assert embedded_process.processes_using(data_dir / "embedded" / "db") == []
