"""See an embedded server's stop through, detached from the process that stopped using it.

The last user of the server sends it SIGTERM and returns at once: the server needs from 0.1 s to about 2 s to
close WiredTiger and exit, and a host waiting for our exit should not wait for that. This helper, started in its
own session, does the waiting: it signals again when the first signal was lost (the server still listens), kills
a server that hangs, then clears the state file unless a new start took the data dir over in the meantime. A
start that comes first waits for the stopping server the same way (``stopping_since`` in the state file).

    python -m mcp_storyboard.db.embedded_stop <embedded dir> <pid> <port> <signalled at, epoch seconds>
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from mcp_storyboard.db import embedded_process as process
from mcp_storyboard.db.embedded_state import Paths, read_state
from mcp_storyboard.errors import ConfigError

_LOCK_TIMEOUT_SECONDS = 90.0
# The directory holding the mcp_storyboard package, so the helper runs this very code.
_PACKAGE_PARENT = Path(__file__).resolve().parents[2]


def launch(paths: Paths, pid: int, port: int | None, signalled_at: float) -> bool:
    """Start the helper for the server ``pid`` signalled at ``signalled_at``; False when it could not start."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_PARENT), env.get("PYTHONPATH")) if p)
    command = [sys.executable, "-m", __name__, str(paths.root), str(pid), str(port or 0), repr(signalled_at)]
    try:
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=paths.root,
            env=env,
            start_new_session=True,  # outlives us, and our terminal's Ctrl-C
        )
    except OSError:
        return False
    return True


def finish_stop(paths: Paths, pid: int, port: int | None, signalled_at: float) -> None:
    """Wait for the server to exit (signal again, kill if hung), then clear its state file if it still names it."""
    process.await_exit(pid, paths.storage, port, signalled_ago=max(0.0, time.time() - signalled_at))
    with process.flock(paths.lock, timeout=_LOCK_TIMEOUT_SECONDS):
        state = read_state(paths.state)
        if state is not None and state.pid == pid and not process.is_server_for(pid, paths.storage):
            paths.state.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    root, pid, port, signalled_at = argv
    try:
        finish_stop(Paths.at(Path(root)), int(pid), int(port) or None, float(signalled_at))
    except ConfigError:
        return 1  # the lock stayed taken: the start holding it waits for the server itself
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
