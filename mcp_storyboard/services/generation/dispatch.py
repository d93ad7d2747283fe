"""Which ComfyUI server runs an item: an active, online one with spare capacity, the least loaded (a pinned one only).

A server's load is the prompts running on it against its ``max_concurrent``. Within one worker process the count
is exact: a slot is reserved synchronously right after the choice (no await in between), so this process never
puts more than ``max_concurrent`` prompts on a server. Other workers' prompts are counted from the ``running``
entries of every processing batch (``GenerationBatchRepository.running_per_server``), read before each choice: a
prompt another worker submits at the same moment may go unseen, so across processes the limit is a best effort
(ComfyUI queues the extra prompt; nothing fails).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import anyio

from mcp_storyboard.models.generation import ComfyUIServer
from mcp_storyboard.repositories.comfyui_servers import ComfyUIServerRepository
from mcp_storyboard.repositories.generation_batches import GenerationBatchRepository

FULL_WAIT_SECONDS = 1.0
"""How long an item waits for a slot before it looks again (other workers' prompts end without telling us)."""


@dataclass
class _Load:
    reserved: int = 0
    """This process's prompts on the server: chosen, submitted or not yet."""
    recorded: int = 0
    """Those of them already recorded in a batch's ``running`` (so counted by the database too)."""


class ServerPool:
    """Chooses servers for the items of every batch this worker runs, and counts what runs where."""

    def __init__(self, servers: ComfyUIServerRepository, batches: GenerationBatchRepository,
                 *, full_wait_seconds: float = FULL_WAIT_SECONDS) -> None:
        self.servers = servers
        self.batches = batches
        self.full_wait_seconds = full_wait_seconds
        self._loads: dict[str, _Load] = {}
        self._freed = anyio.Event()

    def running_here(self, server_id: str) -> int:
        """Prompts this process has on ``server_id`` now."""
        load = self._loads.get(server_id)
        return 0 if load is None else load.reserved

    async def eligible(self, *, pinned: str | None, exclude: Collection[str] = ()) -> list[ComfyUIServer]:
        """Active, online servers an item may run on (the pinned one only), minus ``exclude``."""
        return [
            server for server in await self.servers.list_active()
            if server.status == "online" and server.id not in exclude and (pinned is None or server.id == pinned)
        ]

    async def acquire(self, *, pinned: str | None, exclude: Collection[str] = ()) -> ComfyUIServer | None:
        """Reserve a slot on the least loaded eligible server, waiting while every one is full; None when there is
        no eligible server at all (the caller decides what that means for the item)."""
        while True:
            candidates = await self.eligible(pinned=pinned, exclude=exclude)
            if not candidates:
                return None
            elsewhere = await self.batches.running_per_server()
            # From here to the reservation nothing awaits: the choice and the count cannot be overtaken here.
            best = min(candidates, key=lambda s: (self._load_of(s, elsewhere) / s.max_concurrent, s.name, s.id))
            if self._load_of(best, elsewhere) < best.max_concurrent:
                self._loads.setdefault(best.id, _Load()).reserved += 1
                return best
            freed = self._freed
            with anyio.move_on_after(self.full_wait_seconds):
                await freed.wait()

    def submitted(self, server_id: str) -> None:
        """The reserved prompt is now recorded in its batch's ``running`` (the database counts it from now on)."""
        self._loads.setdefault(server_id, _Load()).recorded += 1

    def release(self, server_id: str, *, recorded: bool) -> None:
        """The prompt ended (or was never submitted): free its slot and wake the items waiting for one."""
        load = self._loads.setdefault(server_id, _Load())
        load.reserved = max(0, load.reserved - 1)
        if recorded:
            load.recorded = max(0, load.recorded - 1)
        if not load.reserved:
            del self._loads[server_id]
        freed, self._freed = self._freed, anyio.Event()
        freed.set()

    def _load_of(self, server: ComfyUIServer, elsewhere: dict[str, int]) -> int:
        mine = self._loads.get(server.id, _Load())
        return mine.reserved + max(0, elsewhere.get(server.id, 0) - mine.recorded)
