"""Run one FaceFusion command as a child process: its own process group, a deadline, progress parsed from its
output, a bounded tail of its stderr with secrets removed, and the whole group killed on timeout or cancellation.

FaceFusion logs to stderr (``[FACEFUSION.CORE] ...``) and draws tqdm bars there (``processing:  40%|====  |``,
redrawn with carriage returns). An image run prints stage lines only; video runs and model downloads print
percentages. Progress is the ``processing`` bar's percentage when there is one, else the image stages, and it
never goes backwards.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio

TAIL_BYTES = 64 * 1024
"""How much of stderr is kept while the process runs."""
ERROR_CHARS = 2000
"""How much of the kept stderr goes into an error message (the end: where FaceFusion says what failed)."""
_PERCENT = re.compile(r"^\s*processing:\s*(\d{1,3})%")
_STAGES = (("copying image", 10.0), ("processing step", 5.0), ("finalizing image", 90.0))
_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s@]*@", re.I)
_SECRET_NAMES = re.compile(r"(URI|URL|PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL|AUTH)", re.I)
_KEEP = frozenset({"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"})


@dataclass(frozen=True)
class Completed:
    """How the process ended."""

    returncode: int | None
    """None: it was killed at the deadline."""
    stderr_tail: str
    """The end of its stderr (progress bars and secrets removed)."""


def child_environment(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` without variables that look secret (the database URI, tokens, keys): FaceFusion needs none of
    them, and what it does not have it cannot print."""
    return {k: v for k, v in base.items() if k in _KEEP or k.startswith("CUDA") or not _SECRET_NAMES.search(k)}


def scrub(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` without user info in URLs (``scheme://user:pw@`` → ``scheme://***@``) or any of ``secrets``."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return _CREDENTIALS.sub(lambda m: m.group("scheme") + "***@", text)


class ProgressParser:
    """Turns FaceFusion's output lines into a progress figure, 0–100, never decreasing."""

    def __init__(self) -> None:
        self.value = 0.0

    def feed(self, line: str) -> float | None:
        """The new progress if ``line`` moves it forward, else None."""
        found: float | None = None
        match = _PERCENT.match(line)
        if match:
            found = min(100.0, float(match.group(1)))
        else:
            lowered = line.lower()
            found = next((value for text, value in _STAGES if text in lowered), None)
        if found is None or found <= self.value:
            return None
        self.value = found
        return found


async def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    report: Callable[[float], Awaitable[None]],
    secrets: Sequence[str] = (),
) -> Completed:
    """Run ``argv`` to its end or to the deadline, calling ``report`` as its progress moves.

    The child gets its own session (so its own process group): a timeout or a cancellation kills the group,
    FaceFusion's ffmpeg children included, and waits for it before returning or re-raising.
    """
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd),
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    tail: deque[bytes] = deque()
    parser = ProgressParser()
    try:
        with anyio.move_on_after(timeout_s) as deadline:
            async with anyio.create_task_group() as group:
                assert process.stdout is not None and process.stderr is not None
                group.start_soon(_pump, process.stdout, parser, report, None)
                group.start_soon(_pump, process.stderr, parser, report, tail)
            returncode: int | None = await process.wait()
        if deadline.cancelled_caught:
            returncode = None
            await _kill(process)
    except BaseException:
        await _kill(process)
        raise
    return Completed(returncode=returncode, stderr_tail=scrub(_tail_text(tail), secrets))


async def _pump(
    stream: asyncio.StreamReader,
    parser: ProgressParser,
    report: Callable[[float], Awaitable[None]],
    tail: deque[bytes] | None,
) -> None:
    pending = b""
    kept = 0
    while chunk := await stream.read(4096):
        if tail is not None:
            tail.append(chunk)
            kept += len(chunk)
            while kept - len(tail[0]) >= TAIL_BYTES:
                kept -= len(tail.popleft())
        *lines, pending = re.split(rb"[\r\n]", pending + chunk)
        pending = pending[-4096:]  # a line without an end is not kept without bound
        for line in lines:
            progress = parser.feed(line.decode("utf-8", "replace"))
            if progress is not None:
                await report(progress)


async def _kill(process: asyncio.subprocess.Process) -> None:
    with anyio.CancelScope(shield=True):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        await process.wait()


def _tail_text(tail: deque[bytes]) -> str:
    text = b"".join(tail).decode("utf-8", "replace")
    # A tqdm bar redraws itself with carriage returns: keep each line's last state, drop empty lines.
    lines = [next((s for s in reversed(part.split("\r")) if s.strip()), "").rstrip() for part in text.split("\n")]
    joined = "\n".join(line for line in lines if line)
    return joined[-ERROR_CHARS:]
