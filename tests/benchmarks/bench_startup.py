"""Issue-7 start and stop figures, one run: ``mcp-storyboard`` spawned over stdio, timed from spawn to the answer
to the first ``tools/list`` (after ``initialize``), from spawn to the answer to the first ``tools/call`` (right
after that list: ``list_projects`` with ``{}``, which needs the database), and from closing its stdin to the
process's exit; for the embedded database and for a ``MONGODB_URI`` start (an embedded server this script starts
on 127.0.0.1). With
``--before DIR`` (a copy of an older commit) both checkouts run interleaved in the same run and the ratios are
printed. Prints medians; asserts nothing.

    git archive <base> | tar -x -C /tmp/before      # a copy, never committed
    .venv/bin/python tests/benchmarks/bench_startup.py [--runs 7] [--before /tmp/before] [--mongodb-mcp-server BIN]

The issue's yardstick is the official MongoDB MCP server (Node.js). With ``--mongodb-mcp-server BIN`` (its
``node_modules/.bin/mongodb-mcp-server`` from ``npm install mongodb-mcp-server``, installed outside the project) it
runs in the same rounds, connected to the same embedded server by ``MDB_MCP_CONNECTION_STRING`` with telemetry off
(its first call: ``list-databases`` on its ``preconfigured`` connection), and our starts are printed as ratios of its.

Embedded runs wait until the previous run's server has exited before spawning (a clean start), except the
"restart" figure, which spawns right after the previous process exited, while its server may still be stopping.

Bytecode: an installed package has its ``.pyc`` files (pip compiles them), so by default the servers run with a
bytecode cache in this script's temporary directory (``PYTHONPYCACHEPREFIX``, filled by the warm-up run; nothing is
written into the checkouts) even where the environment sets ``PYTHONDONTWRITEBYTECODE``. ``--no-bytecode-cache``
keeps the environment as it is (then every start compiles the project's modules from source).
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from mcp_storyboard.db.embedded import EmbeddedServer

ROOT = Path(__file__).resolve().parents[2]
ANSWER_TIMEOUT = 60.0
OFFICIAL = "MongoDB MCP server"
FIRST_CALL: tuple[str, dict[str, Any]] = ("list_projects", {})
OFFICIAL_FIRST_CALL: tuple[str, dict[str, Any]] = ("list-databases", {"connectionId": "preconfigured"})
"""Each server's first tools/call: a read that needs the database and returns little."""
COLUMNS = (("first_list", "spawn -> tools/list"), ("first_call", "spawn -> tools/call"),
           ("shutdown", "stdin close -> exit"), ("cpu", "server CPU to list"))
FIRST_ANSWERS = ("first_list", "first_call")
"""The columns compared with the official server."""
INITIALIZE = {
    "protocolVersion": "2025-11-25",
    "capabilities": {},
    "clientInfo": {"name": "bench-startup", "version": "0"},
}


@dataclass(frozen=True)
class Timing:
    first_list: float
    first_call: float
    shutdown: float
    tools: int
    cpu: float
    """CPU seconds the server process used until its tools/list answer (the daemon's not included): a figure that
    waits for nothing, so it moves less than the wall time when the machine is busy."""


class StdioServer:
    """One stdio MCP server (``python -m mcp_storyboard`` unless ``command`` says otherwise) over pipes, spoken to
    with newline-delimited JSON-RPC."""

    def __init__(self, checkout: Path, env: dict[str, str], command: list[str] | None = None) -> None:
        self.proc = subprocess.Popen(
            command or [sys.executable, "-m", "mcp_storyboard"],
            cwd=checkout,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)
        self._buffer = b""

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def answer(self, request_id: int) -> dict[str, Any]:
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while True:
            line, sep, rest = self._buffer.partition(b"\n")
            if sep:
                self._buffer = rest
                message = json.loads(line)
                if message.get("id") == request_id:
                    if "error" in message:
                        raise RuntimeError(f"request {request_id} failed: {message['error']}")
                    return dict(message["result"])
                continue
            if not self._selector.select(timeout=max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"no answer to request {request_id} within {ANSWER_TIMEOUT:g} s")
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)  # type: ignore[union-attr]
            if not chunk:
                raise RuntimeError(f"the server exited (code {self.proc.wait()}) before answering")
            self._buffer += chunk

    def close(self) -> float:
        """Close stdin (how a host ends a stdio session); seconds until the process has exited."""
        assert self.proc.stdin is not None
        started = time.perf_counter()
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        elapsed = time.perf_counter() - started
        self._selector.close()
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return elapsed


def run_once(checkout: Path, env: dict[str, str], command: list[str] | None = None,
             call: tuple[str, dict[str, Any]] = FIRST_CALL) -> Timing:
    started = time.perf_counter()
    server = StdioServer(checkout, env, command)
    try:
        server.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INITIALIZE})
        server.answer(1)
        server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        server.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
        tools = len(server.answer(2)["tools"])
        first_list = time.perf_counter() - started
        times = psutil.Process(server.proc.pid).cpu_times()
        cpu = times.user + times.system
        name, arguments = call
        server.send({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                     "params": {"name": name, "arguments": arguments}})
        called = server.answer(3)
        first_call = time.perf_counter() - started
        if called.get("isError"):
            raise RuntimeError(f"{name} failed: {called.get('content')}")
    except BaseException:
        server.proc.kill()
        server.proc.wait()
        raise
    return Timing(first_list, first_call, server.close(), tools, cpu)


def wait_for_no_server(storage: Path, timeout: float = 30.0) -> float:
    """Seconds until no process names ``storage`` on its command line (the previous embedded server exited)."""
    started = time.perf_counter()
    target = os.fsdecode(storage)
    while time.perf_counter() - started < timeout:
        if not any(target in (p.info["cmdline"] or ()) for p in psutil.process_iter(["cmdline"])):
            return time.perf_counter() - started
        time.sleep(0.02)
    raise TimeoutError(f"a server on {storage} still runs after {timeout:g} s")


def base_env(checkout: Path, pycache: Path | None) -> dict[str, str]:
    """The environment of a server run from ``checkout``; with ``pycache``, bytecode is cached there."""
    dropped: tuple[str, ...] = ("MONGODB_URI", "MONGO_URL", "STORYBOARD_DATA_DIR")
    if pycache is not None:
        dropped += ("PYTHONDONTWRITEBYTECODE",)
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PYTHONPATH"] = str(checkout)
    if pycache is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", type=Path, help="a copy of the older checkout to compare against")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="run the servers with the environment's bytecode setting (default: a cache, as installed)")
    parser.add_argument("--mongodb-mcp-server", type=Path, metavar="BIN",
                        help="the official MongoDB MCP server's executable, timed in the same rounds")
    args = parser.parse_args()
    official = [os.fspath(args.mongodb_mcp_server.resolve())] if args.mongodb_mcp_server else None

    checkouts = {"after": ROOT}
    if args.before is not None:
        checkouts = {"before": args.before.resolve(), "after": ROOT}
    results: dict[tuple[str, str], list[Timing]] = defaultdict(list)
    daemon_exit: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        pycache = None if args.no_bytecode_cache else Path(tmp) / "pycache"
        shared = EmbeddedServer(Path(tmp) / "shared-mongodb")
        uri = shared.start()
        try:
            envs: dict[tuple[str, str], dict[str, str]] = {}
            for label, checkout in checkouts.items():
                embedded = base_env(checkout, pycache) | {"STORYBOARD_DATA_DIR": str(Path(tmp) / f"data-{label}")}
                mongodb = base_env(checkout, pycache) | {"MONGODB_URI": uri, "DB_NAME": f"bench_{label}"}
                envs[(label, "embedded")] = embedded
                envs[(label, "embedded restart")] = embedded  # right after "embedded", whose server may still stop
                envs[(label, "MONGODB_URI")] = mongodb
            if official is not None:
                envs[("official", OFFICIAL)] = {k: v for k, v in os.environ.items() if not k.startswith("MDB_MCP_")} | {
                    "MDB_MCP_CONNECTION_STRING": uri, "MDB_MCP_TELEMETRY": "disabled"}
                checkouts_and_official = {**checkouts, "official": Path(tmp)}
            else:
                checkouts_and_official = dict(checkouts)

            def start(label: str, env: dict[str, str]) -> Timing:
                if label == "official":
                    return run_once(checkouts_and_official[label], env, official, OFFICIAL_FIRST_CALL)
                return run_once(checkouts_and_official[label], env)

            for (label, kind), env in envs.items():
                if kind != "embedded restart":  # warm-up: data dir, indexes, migrations, bytecode caches
                    start(label, env)
                    if kind == "embedded":
                        wait_for_no_server(Path(env["STORYBOARD_DATA_DIR"]) / "embedded" / "db")
            for run in range(args.runs):
                for (label, kind), env in envs.items():
                    timing = start(label, env)
                    results[(label, kind)].append(timing)
                    if kind == "embedded restart":
                        storage = Path(env["STORYBOARD_DATA_DIR"]) / "embedded" / "db"
                        daemon_exit[label].append(wait_for_no_server(storage))
                print(f"run {run + 1}/{args.runs} done", file=sys.stderr, flush=True)
        finally:
            shared.stop()

    print("bytecode: " + ("as the environment says" if args.no_bytecode_cache else "cached (as an installed package)"))
    print(f"median of {args.runs} runs (seconds); tools listed: "
          + ", ".join(f"{label} {results[(label, 'embedded')][0].tools}" for label in checkouts))
    print(f"{'':<36}" + "".join(f"{title:>22}" for _, title in COLUMNS))
    for kind in ("embedded", "embedded restart", "MONGODB_URI"):
        for label in checkouts:
            medians = [_median(results[(label, kind)], field) for field, _ in COLUMNS]
            print(f"{kind + ' (' + label + ')':<36}" + "".join(f"{m:>22.3f}" for m in medians))
        if "before" in checkouts:
            ratios = [_ratio(results, kind, field) for field, _ in COLUMNS]
            print(f"{kind + ' after/before':<36}" + "".join(f"{r:>22.2f}" for r in ratios))
    if official is not None:
        theirs = results[("official", OFFICIAL)]
        medians = [_median(theirs, field) for field, _ in COLUMNS]
        print(f"{OFFICIAL:<36}" + "".join(f"{m:>22.3f}" for m in medians) + f"   ({theirs[0].tools} tools)")
        for kind in ("embedded", "embedded restart", "MONGODB_URI"):
            ratios = [_median(results[("after", kind)], field) / _median(theirs, field) for field in FIRST_ANSWERS]
            print(f"{kind + ' (after) / official':<36}" + "".join(f"{r:>22.2f}" for r in ratios))
    for label in checkouts:
        if daemon_exit[label]:
            print(f"embedded server gone after the restart run's exit ({label}): "
                  f"{statistics.median(daemon_exit[label]):.3f} s (median)")


def _median(timings: list[Timing], field: str) -> float:
    return statistics.median(getattr(t, field) for t in timings)


def _ratio(results: dict[tuple[str, str], list[Timing]], kind: str, field: str) -> float:
    return _median(results[("after", kind)], field) / _median(results[("before", kind)], field)


if __name__ == "__main__":
    main()
