"""A stub ``PromptRunner`` and batch helpers for the generation worker tests.

The stub "runs" an item by announcing a prompt id (``on_submitted``), waiting for ``gate`` when set, and returning
one PNG (image items) or MP4 (video items); ``outcome(server, item, run_number)`` may return an exception to raise
instead (before the prompt is submitted for ``ComfyUIUnreachable``, after it otherwise). It counts what runs where,
so tests can tell how often each item ran, on which server, and how many prompts a server had at once.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from mcp_storyboard.integrations.comfyui import ComfyUIUnreachable
from mcp_storyboard.models.generation import (
    ComfyUIServer,
    GenerationBatch,
    GenerationItem,
    GenerationParams,
)
from mcp_storyboard.repositories.comfyui_servers import ComfyUIServerRepository
from mcp_storyboard.services.generation.ports import GeneratedFile, OnSubmitted
from tests.media_samples import MP4, png

Outcome = Callable[[ComfyUIServer, GenerationItem, int], BaseException | None]
PARAMS = GenerationParams(width=512, height=512, steps=20, cfg=7.0, sampler_name="euler", scheduler="normal", seed=42)


class StubPromptRunner:
    def __init__(self, *, gate: anyio.Event | None = None, seconds: float = 0.0,
                 outcome: Outcome = lambda _server, _item, _n: None,
                 gates: Callable[[GenerationItem, int], anyio.Event | None] | None = None) -> None:
        """``gates(item, run_number)``: the event one run waits for (None: none), instead of ``gate`` for all."""
        self.gates = gates or (lambda _item, _n: gate)
        self.seconds = seconds
        self.outcome = outcome
        self.started: list[tuple[str, str]] = []
        """(server id, clip id) of every run, in the order they started."""
        self.cancelled: list[str] = []
        """Clip ids whose run was cancelled (the real runner interrupts the prompt then)."""
        self.client_ids: set[str] = set()
        self.now: Counter[str] = Counter()
        """Prompts running on each server now."""
        self.peak: Counter[str] = Counter()
        """The most prompts each server had at once."""
        self._ids = itertools.count(1)

    def runs_of(self, clip_id: str) -> int:
        return sum(1 for _, clip in self.started if clip == clip_id)

    async def run(self, server: ComfyUIServer, item: GenerationItem, *, client_id: str,
                  on_submitted: OnSubmitted) -> list[GeneratedFile]:
        self.started.append((server.id, item.clip_id))
        self.client_ids.add(client_id)
        run_number = self.runs_of(item.clip_id)
        error = self.outcome(server, item, run_number)
        gate = self.gates(item, run_number)
        if isinstance(error, ComfyUIUnreachable):
            raise error
        self.now[server.id] += 1
        self.peak[server.id] = max(self.peak[server.id], self.now[server.id])
        try:
            await on_submitted(f"prompt-{next(self._ids)}")
            if gate is not None:
                await gate.wait()
            await anyio.sleep(self.seconds)
        except BaseException:
            self.cancelled.append(item.clip_id)
            raise
        finally:
            self.now[server.id] -= 1
        if error is not None:
            raise error
        if item.kind == "video":
            return [GeneratedFile(MP4, "storyboard_00001_.mp4", "video/mp4", "video")]
        return [GeneratedFile(png(2, 2), "storyboard_00001_.png", "image/png", "image")]


def item(clip_id: str, *, kind: str = "image", prompt: str | None = None, **fields: Any) -> GenerationItem:
    return GenerationItem.model_validate({
        "clip_id": clip_id, "kind": kind, "prompt": prompt or f"a shot of {clip_id}", "negative_prompt": "blurry",
        "checkpoint": "sd_xl_base_1.0.safetensors", "params": PARAMS.model_dump(), **fields,
    })  # fmt: skip


def new_batch(project_id: str, items: Sequence[GenerationItem], **fields: Any) -> GenerationBatch:
    return GenerationBatch.model_validate({
        "project_id": project_id, "items": [i.model_dump() for i in items], "total_jobs": len(items), **fields,
    })  # fmt: skip


async def online_server(servers: ComfyUIServerRepository, name: str, *, max_concurrent: int = 2,
                        port: int = 8188, **fields: Any) -> ComfyUIServer:
    """A registered server whose last check found it online (no HTTP behind it: the stub runner never calls)."""
    stored = await servers.insert(ComfyUIServer(name=name, url=f"http://127.0.0.1:{port}", max_concurrent=max_concurrent,
                                                **fields))
    return await servers.set_status(stored.id, "online", capabilities={})
