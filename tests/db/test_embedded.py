"""The embedded SecantusDB server: persistence, sharing between processes, orphans, and startup errors."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pymongo
import pytest

from mcp_storyboard.db import embedded as embedded_module
from mcp_storyboard.db import embedded_process
from mcp_storyboard.db.embedded import EmbeddedServer, find_executable
from mcp_storyboard.errors import ConfigError

pytestmark = pytest.mark.slow

needs_secantus = pytest.mark.skipif(find_executable() is None, reason="secantusd-py is not installed")

ServerFactory = Callable[..., EmbeddedServer]

# A second process using the same data dir. argv: data_dir, mode ("share" | "hold" | "start").
_CHILD_SCRIPT = """
import sys, time, pathlib, pymongo
from mcp_storyboard.db.embedded import EmbeddedServer
server = EmbeddedServer(pathlib.Path(sys.argv[1]))
uri = server.start()
client = pymongo.MongoClient(uri)
client.storyboard.notes.insert_one({"by": "child"})
print(uri, server.owned, server.pid, client.storyboard.notes.count_documents({}), flush=True)
client.close()
if sys.argv[2] == "hold":
    time.sleep(600)
server.stop()
"""


def _child(data_dir: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD_SCRIPT, str(data_dir), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _processes_under(root: Path) -> list[int]:
    """Pids of processes with a command-line argument inside ``root`` (our servers' storage paths are)."""
    prefix = os.fsdecode(root)
    return [
        proc.pid
        for proc in psutil.process_iter(["cmdline"])
        if proc.pid != os.getpid() and any(arg.startswith(prefix) for arg in proc.info["cmdline"] or ())
    ]


def _secantus_pids_under(root: Path) -> list[int]:
    return [pid for pid in _processes_under(root) if embedded_process.process_alive(pid) and _is_secantus(pid)]


def _is_secantus(pid: int) -> bool:
    try:
        return any("secantusd" in arg for arg in psutil.Process(pid).cmdline())
    except psutil.Error:
        return False


def _kill_leftovers(root: Path) -> None:
    state_file = root / "embedded" / "server.json"
    pids = set(_processes_under(root))
    if state_file.exists():
        pids.add(json.loads(state_file.read_text())["pid"])
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[ServerFactory]:
    """Makes EmbeddedServers under tmp_path; afterwards stops them and kills anything left, even on failure."""
    made: list[EmbeddedServer] = []

    def make(data_dir: Path = tmp_path / "data", **kwargs: object) -> EmbeddedServer:
        server = EmbeddedServer(data_dir, **kwargs)  # type: ignore[arg-type]
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            try:
                server.stop()
            except Exception:  # noqa: BLE001 - cleanup must go on
                pass
        _kill_leftovers(tmp_path)


def _client(uri: str, **options: Any) -> pymongo.MongoClient[dict[str, Any]]:
    return pymongo.MongoClient(uri, **options)


def _notes(uri: str) -> list[str]:
    with _client(uri) as client:
        return sorted(doc["by"] for doc in client.storyboard.notes.find())


def _write_note(uri: str, by: str) -> None:
    with _client(uri) as client:
        client.storyboard.notes.insert_one({"by": by})


@needs_secantus
def test_data_written_through_the_embedded_server_survives_stop_and_start(servers: ServerFactory) -> None:
    first = servers()
    started = time.monotonic()
    uri = first.start()
    startup_seconds = time.monotonic() - started
    assert uri == f"mongodb://127.0.0.1:{first.port}/?directConnection=true"
    assert first.owned
    _write_note(uri, "first")
    first.stop()
    assert first.uri is None and first.pid is None

    second = servers()
    assert _notes(second.start()) == ["first"]
    assert second.owned
    print(f"embedded start took {startup_seconds:.2f} s")


@needs_secantus
def test_stop_can_be_called_twice_and_start_twice_returns_the_same_uri(servers: ServerFactory) -> None:
    server = servers()
    uri = server.start()
    assert server.start() == uri
    server.stop()
    server.stop()
    assert server.uri is None


@needs_secantus
def test_a_second_process_reuses_the_running_server_and_the_last_one_out_stops_it(
    servers: ServerFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = servers(data_dir)
    uri = first.start()
    _write_note(uri, "parent")

    child = _child(data_dir, "share")
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    child_uri, child_owned, child_pid, child_count = out.split()
    assert child_uri == uri
    assert child_owned == "False"
    assert int(child_pid) == first.pid
    assert child_count == "2"  # it saw the parent's note and its own
    assert _notes(uri) == ["child", "parent"]
    assert first.pid in _secantus_pids_under(tmp_path), "the child's stop() must not stop a server still in use"

    first.stop()
    assert _secantus_pids_under(tmp_path) == []
    assert _notes(servers(data_dir).start()) == ["child", "parent"]


@needs_secantus
def test_two_users_in_one_process_keep_the_server_until_both_stop(servers: ServerFactory) -> None:
    first, second = servers(), servers()
    uri = first.start()
    assert second.start() == uri
    assert not second.owned
    first.stop()
    _write_note(uri, "still up")
    second.stop()
    with pytest.raises(pymongo.errors.PyMongoError):
        with _client(uri, serverSelectionTimeoutMS=500) as client:
            client.admin.command("ping")


@needs_secantus
def test_a_parent_killed_with_sigkill_leaves_an_orphan_the_next_start_reuses_and_stops(
    servers: ServerFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    child = _child(data_dir, "hold")
    try:
        assert child.stdout is not None
        child_uri, _owned, orphan_pid, _count = child.stdout.readline().split()
    finally:
        child.kill()
        child.wait()
    assert int(orphan_pid) in _secantus_pids_under(tmp_path), "the server must outlive its killed parent"

    server = servers(data_dir)
    assert server.start() == child_uri
    assert not server.owned
    assert server.pid == int(orphan_pid)
    assert _notes(child_uri) == ["child"]

    server.stop()  # the dead parent's client file must not keep the server alive
    assert _secantus_pids_under(tmp_path) == []
    assert not (data_dir / "embedded" / "server.json").exists()


@needs_secantus
def test_a_parent_killed_while_the_server_starts_leaves_an_orphan_the_next_start_waits_for(
    servers: ServerFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    state_file = data_dir / "embedded" / "server.json"
    child = _child(data_dir, "hold")
    try:
        deadline = time.monotonic() + 30
        while not state_file.exists():
            assert time.monotonic() < deadline, "the child never spawned a server"
            time.sleep(0.01)
    finally:
        child.kill()
        child.wait()
    orphan_pid = json.loads(state_file.read_text())["pid"]

    server = servers(data_dir)
    server.start()
    assert server.pid == orphan_pid
    assert not server.owned
    server.stop()
    assert _secantus_pids_under(tmp_path) == []


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _write_stale_state(data_dir: Path, pid: int) -> Path:
    state_file = data_dir / "embedded" / "server.json"
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(
        json.dumps({"pid": pid, "port": 1, "started_at": "2020-01-01T00:00:00+00:00", "storage_path": "x"})
    )
    return state_file


@needs_secantus
def test_a_state_file_naming_a_dead_pid_does_not_block_a_start(servers: ServerFactory, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    pid = _dead_pid()
    state_file = _write_stale_state(data_dir, pid)

    server = servers(data_dir)
    uri = server.start()
    assert server.owned
    assert server.pid != pid
    assert json.loads(state_file.read_text())["pid"] == server.pid
    _write_note(uri, "fresh")
    assert _notes(uri) == ["fresh"]


@needs_secantus
@pytest.mark.usefixtures("proc_view")
def test_a_state_file_naming_a_live_unrelated_process_starts_a_server_and_never_signals_that_process(
    servers: ServerFactory, tmp_path: Path, unrelated_process: subprocess.Popen[bytes]
) -> None:
    data_dir = tmp_path / "data"
    state_file = _write_stale_state(data_dir, unrelated_process.pid)

    server = servers(data_dir)
    uri = server.start()
    assert server.owned
    assert server.pid != unrelated_process.pid
    assert json.loads(state_file.read_text())["pid"] == server.pid
    _write_note(uri, "fresh")
    own_pid = server.pid

    _write_stale_state(data_dir, unrelated_process.pid)  # stop() trusts the state file no more than start()
    server.stop()
    assert unrelated_process.poll() is None, "an unrelated process was signalled"
    assert not embedded_process.process_alive(own_pid), "our own server must still be stopped"


def test_a_missing_executable_says_how_to_install_it_or_use_mongodb(servers: ServerFactory) -> None:
    with pytest.raises(ConfigError) as caught:
        servers(executable="/nonexistent/secantusd-py").start()
    message = str(caught.value)
    assert "pip install 'mcp-storyboard[embedded]'" in message
    assert "MONGODB_URI" in message


def test_no_secantus_installed_says_how_to_install_it(
    servers: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded_module, "find_executable", lambda: None)
    with pytest.raises(ConfigError, match=r"pip install 'mcp-storyboard\[embedded\]'.*MONGODB_URI"):
        servers().start()


def test_an_unwritable_data_dir_is_a_config_error(servers: ServerFactory, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="not writable"):
        servers(blocker / "data").start()


def _fake_executable(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-secantusd"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_a_server_that_exits_during_startup_reports_its_last_log_line_and_log_path(
    servers: ServerFactory, tmp_path: Path
) -> None:
    fake = _fake_executable(tmp_path, 'echo "Traceback (most recent call last):"; echo "BoomError: disk on fire"; exit 3')
    data_dir = tmp_path / "data"
    with pytest.raises(ConfigError) as caught:
        servers(data_dir, executable=fake).start()
    message = str(caught.value)
    assert "BoomError: disk on fire" in message
    assert str(data_dir / "embedded" / "secantusd.log") in message
    assert "\n" not in message
    assert not (data_dir / "embedded" / "server.json").exists()


def test_a_server_that_never_answers_times_out_with_the_log_path_and_is_stopped(
    servers: ServerFactory, tmp_path: Path
) -> None:
    # Keeps the arguments (so the storage path) on its command line, like the real server.
    fake = _fake_executable(tmp_path, f'exec {sys.executable} -c "import time; time.sleep(60)" "$@"')
    data_dir = tmp_path / "data"
    with pytest.raises(ConfigError, match="did not answer within 0.5 s") as caught:
        servers(data_dir, executable=fake, startup_timeout=0.5).start()
    assert str(data_dir / "embedded" / "secantusd.log") in str(caught.value)
    assert _processes_under(tmp_path) == []


@needs_secantus
def test_the_server_only_listens_on_127_0_0_1(servers: ServerFactory) -> None:
    server = servers()
    server.start()
    assert server.pid is not None and server.port is not None
    process = psutil.Process(server.pid)
    # psutil skips descriptors the server closes while they are listed (one did, once, mid-run).
    listening = [conn.laddr for conn in process.net_connections("inet") if conn.status == psutil.CONN_LISTEN]
    assert [(address.ip, address.port) for address in listening] == [("127.0.0.1", server.port)]
    assert "--enable-test-commands" not in process.cmdline()


@needs_secantus
def test_a_server_the_state_file_does_not_know_is_named_in_the_error(servers: ServerFactory, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = servers(data_dir)
    first.start()
    (data_dir / "embedded" / "server.json").unlink()

    with pytest.raises(ConfigError, match=rf"Device or resource busy.*pid {first.pid}\) holds"):
        servers(data_dir).start()
