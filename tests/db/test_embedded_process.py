"""Which process is our embedded server, and which client is still alive: decided from command lines and create
times through psutil, the same on every platform, so a reused pid is never signalled or counted."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from mcp_storyboard.db import embedded_process


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    return tmp_path / "embedded" / "db"


@pytest.mark.usefixtures("proc_view")
def test_a_live_process_that_does_not_name_the_storage_is_not_our_server_and_is_never_signalled(
    unrelated_process: subprocess.Popen[bytes], storage: Path
) -> None:
    assert embedded_process.process_alive(unrelated_process.pid)
    assert not embedded_process.is_server_for(unrelated_process.pid, storage)
    embedded_process.terminate(unrelated_process.pid, storage)
    assert unrelated_process.poll() is None


@pytest.mark.usefixtures("proc_view")
def test_a_process_that_names_the_storage_on_its_command_line_is_recognised_and_stopped(storage: Path) -> None:
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "--storage-path", str(storage)])
    try:
        assert embedded_process.is_server_for(server.pid, storage)
        assert embedded_process.processes_using(storage) == [server.pid]
        embedded_process.terminate(server.pid, storage)
        assert server.wait(timeout=10) is not None
    finally:
        server.kill()
        server.wait()
    assert not embedded_process.is_server_for(server.pid, storage)


@pytest.mark.usefixtures("proc_view")
def test_a_zombie_counts_as_gone() -> None:
    proc = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 30
        while psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE:  # exited, not reaped until wait()
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.01)
        assert not embedded_process.process_alive(proc.pid)
    finally:
        proc.wait()


@pytest.mark.usefixtures("proc_view")
def test_a_client_file_is_alive_for_its_own_process_and_dead_once_its_pid_is_reused(
    tmp_path: Path, unrelated_process: subprocess.Popen[bytes]
) -> None:
    own = embedded_process.register_client(tmp_path)
    assert embedded_process.client_alive(own)
    started = embedded_process.process_create_time(unrelated_process.pid)
    assert started is not None
    same = tmp_path / "same"
    same.write_text(json.dumps({"pid": unrelated_process.pid, "create_time": started}))
    reused = tmp_path / "reused"  # the pid of a client that started an hour before this process had it
    reused.write_text(json.dumps({"pid": unrelated_process.pid, "create_time": started - 3600}))
    assert embedded_process.client_alive(same)
    assert not embedded_process.client_alive(reused)

    assert embedded_process.prune_clients(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([own.name, "same"])
