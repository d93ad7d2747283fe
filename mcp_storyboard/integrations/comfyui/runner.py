"""The ComfyUI prompt runner: one generation item on one server, from graph to downloaded files.

Implements ``services.generation.ports.PromptRunner`` (structurally: integrations do not import services). A run
builds the item's graph (``graph.py``) or patches its custom workflow (``workflow.py``), submits it with the worker's
``client_id`` under a prompt id chosen here (so a run cancelled while its submit is in flight can still clean up),
follows ``/history`` with backoff until the prompt ends, reads how it ended (``outputs.py``) and downloads every
output through ``/view``. A run that is cancelled, misses its deadline, or whose ``on_submitted`` fails removes its
prompt from the server's queue or interrupts it, shielded and bounded by a short timeout. The websocket is not used:
polling needs no extra connection and finds the same ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2

from mcp_storyboard.errors import ComfyUIError, ValidationError
from mcp_storyboard.integrations.comfyui.client import ComfyUIClient, ComfyUIUnreachable
from mcp_storyboard.integrations.comfyui.graph import Graph, build_graph
from mcp_storyboard.integrations.comfyui.outputs import (
    GeneratedFile,
    check_status,
    kind_of,
    media_type,
    output_refs,
)
from mcp_storyboard.integrations.comfyui.workflow import check_workflow, patch_workflow
from mcp_storyboard.models.generation import ComfyUIServer, GenerationItem

OnSubmitted = Callable[[str], Awaitable[None]]
"""``services.generation.ports.OnSubmitted``: called with the prompt id once it is queued."""
DEFAULT_TIMEOUT_S = 1800.0
"""A run's deadline: a video on a busy server can queue and render for many minutes."""
CLEANUP_TIMEOUT_S = 5.0
"""How long an abandoned run spends removing its prompt from the server before giving up."""


@dataclass(frozen=True)
class PollSchedule:
    """How often ``/history`` is asked: ``first`` seconds after the submit, growing by ``factor`` up to ``most``.

    A trivial graph ends in about 10 ms on a real server, a render in seconds to minutes: a short first wait finds
    quick prompts quickly, and the cap keeps a long render to one request a second.
    """

    first: float = 0.02
    factor: float = 1.5
    most: float = 1.0
    queue_check_every: int = 8
    """Empty polls between looks at ``/queue``: a prompt neither queued, running nor in history is lost (the server
    restarted or its queue was cleared), and the run fails instead of waiting for its deadline."""


class ComfyUIPromptRunner:
    """Runs generation items on ComfyUI servers over their HTTP API.

    ``transport`` replaces the network for every client the runner opens (tests, benchmarks).
    """

    def __init__(self, *, timeout_s: float = DEFAULT_TIMEOUT_S, poll: PollSchedule | None = None,
                 filename_prefix: str = "storyboard", cleanup_timeout_s: float = CLEANUP_TIMEOUT_S,
                 transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self.timeout_s = timeout_s
        self.poll = poll or PollSchedule()
        self.filename_prefix = filename_prefix
        self.cleanup_timeout_s = cleanup_timeout_s
        self.transport = transport

    def describe(self) -> str:
        return f"ComfyUI HTTP runner (deadline {self.timeout_s:g} s per item, polling /history)"

    def graph_for(self, item: GenerationItem) -> Graph:
        """The graph ``item`` runs: its patched workflow, or the built-in graph saving under the clip's prefix.

        Raises:
            ComfyUIError: the item's workflow or patches are invalid (queueing normally refuses them first).
        """
        if item.workflow is None:
            return build_graph(item, filename_prefix=f"{self.filename_prefix}/{item.clip_id}")
        try:
            return patch_workflow(check_workflow(item.workflow), item.workflow_inputs)
        except ValidationError as exc:
            raise ComfyUIError(f"clip {item.clip_id}'s workflow cannot run: {exc.message}", hint=exc.hint) from None

    async def run(self, server: ComfyUIServer, item: GenerationItem, *, client_id: str,
                  on_submitted: OnSubmitted) -> list[GeneratedFile]:
        """Generate ``item`` on ``server``; its output files (at least one).

        Raises:
            ComfyUIUnreachable: the server did not answer.
            ComfyUINodeErrors: the server refused the graph (per node and input).
            ComfyUIExecutionError: the prompt failed or was interrupted while running.
            ComfyUIError: any other refusal, including a prompt that produced no image or video.
            TimeoutError: the prompt did not end within ``timeout_s``.
        """
        graph = self.graph_for(item)
        prompt_id = str(uuid.uuid4())
        async with ComfyUIClient(server.url, api_key=server.api_key, transport=self.transport) as comfy:
            with anyio.move_on_after(self.timeout_s):
                entry = await self._submit_and_follow(comfy, graph, prompt_id, client_id, on_submitted)
                check_status(entry, where=comfy.base_url, prompt_id=prompt_id)
                return await self._download(comfy, entry, prompt_id)
            # Only the deadline leaves the block without a return; the prompt was already taken off the server.
            raise TimeoutError(f"ComfyUI at {comfy.base_url} did not finish prompt {prompt_id} within "
                               f"{self.timeout_s:g} s; it was taken off the server if it was still queued or running")

    async def _submit_and_follow(self, comfy: ComfyUIClient, graph: Graph, prompt_id: str, client_id: str,
                                 on_submitted: OnSubmitted) -> dict[str, Any]:
        """The prompt's history entry once it has ended; the prompt is abandoned on any way out before that."""
        try:
            await comfy.submit(graph, client_id=client_id, prompt_id=prompt_id)
        except ComfyUIUnreachable as exc:
            if exc.may_have_arrived:  # the server went quiet after taking the request: the prompt may be queued
                await self._abandon(comfy, prompt_id)
            raise
        except ComfyUIError:
            raise  # the server answered with a refusal: nothing was queued
        except BaseException:  # cancelled (or out of time) with the request in flight: it may have been queued
            await self._abandon(comfy, prompt_id)
            raise
        try:
            await on_submitted(prompt_id)
            return await self._follow(comfy, prompt_id)
        except BaseException:  # cancellation included: the prompt must not keep the server busy for nobody
            await self._abandon(comfy, prompt_id)
            raise

    async def _follow(self, comfy: ComfyUIClient, prompt_id: str) -> dict[str, Any]:
        delay, empty = self.poll.first, 0
        while True:
            await anyio.sleep(delay)
            entry = await comfy.history(prompt_id)
            if entry is not None:
                return entry
            delay = min(delay * self.poll.factor, self.poll.most)
            empty += 1
            if empty % self.poll.queue_check_every == 0 and not _in_queue(await comfy.queue(), prompt_id):
                entry = await comfy.history(prompt_id)  # it may have ended between the two reads
                if entry is not None:
                    return entry
                raise ComfyUIError(f"ComfyUI at {comfy.base_url} no longer knows prompt {prompt_id}: it is neither "
                                   "queued, running nor in its history",
                                   hint="the server restarted or its queue was cleared; retry the batch")

    async def _download(self, comfy: ComfyUIClient, entry: dict[str, Any], prompt_id: str) -> list[GeneratedFile]:
        files = []
        for ref in output_refs(entry):
            data, served = await comfy.view(ref.filename, subfolder=ref.subfolder, folder_type=ref.folder_type)
            kind = kind_of(ref, served)
            if kind is not None:
                files.append(GeneratedFile(data=data, filename=ref.filename, content_type=media_type(ref, served),
                                           kind=kind))
        if not files:
            raise ComfyUIError(f"ComfyUI at {comfy.base_url} finished prompt {prompt_id} without an image or video",
                               hint="the workflow needs an output node such as SaveImage or SaveVideo")
        return files

    async def _abandon(self, comfy: ComfyUIClient, prompt_id: str) -> None:
        """Take the prompt off the server: delete it if it waits, interrupt it if it runs. Best effort, shielded from
        the caller's cancellation and bounded by ``cleanup_timeout_s``; failures are swallowed (the run's own error
        is what the caller needs). The interrupt names the prompt and is sent only after ``/queue`` shows it
        running, so another client's prompt is never stopped."""
        with anyio.move_on_after(self.cleanup_timeout_s, shield=True):
            try:
                await comfy.delete_queued([prompt_id])
                queue = await comfy.queue()
                if any(_prompt_id(item) == prompt_id for item in _items(queue, "queue_running")):
                    await comfy.interrupt(prompt_id)
            except ComfyUIError:
                pass


def _items(queue: dict[str, Any], key: str) -> list[Any]:
    items = queue.get(key)
    return items if isinstance(items, list) else []


def _prompt_id(item: Any) -> str | None:
    """A queue item is ``[number, prompt_id, graph, extra_data, outputs]``; only [1] is read (newer versions grow)."""
    return item[1] if isinstance(item, list) and len(item) > 1 and isinstance(item[1], str) else None


def _in_queue(queue: dict[str, Any], prompt_id: str) -> bool:
    return any(_prompt_id(item) == prompt_id
               for key in ("queue_running", "queue_pending") for item in _items(queue, key))
