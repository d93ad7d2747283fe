"""What the generation worker needs from ComfyUI: run one item on one server and hand back its files.

The worker (``services.generation.worker``) never speaks HTTP; ``integrations.comfyui.runner`` implements
:class:`PromptRunner` over ``ComfyUIClient`` (build the graph, submit with a ``client_id``, follow the prompt to its
end, download the outputs), and tests may pass a stub.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

# Defined beside the runner that makes them (integrations do not import services); the worker takes them from here.
from mcp_storyboard.integrations.comfyui.outputs import GeneratedFile
from mcp_storyboard.models.generation import ComfyUIServer, GenerationItem

OnSubmitted = Callable[[str], Awaitable[None]]
"""Called with ComfyUI's prompt id as soon as the prompt is queued (the worker records it, so a cancel can
interrupt it)."""

__all__ = ["GeneratedFile", "OnSubmitted", "PromptRunner"]


class PromptRunner(Protocol):
    async def run(
        self, server: ComfyUIServer, item: GenerationItem, *, client_id: str, on_submitted: OnSubmitted
    ) -> list[GeneratedFile]:
        """Generate ``item`` on ``server`` and return its output files (at least one).

        Cancelling the call interrupts the prompt on the server (or deletes it from the queue) before it returns.

        Raises:
            ComfyUIUnreachable: the server did not answer (the worker tries another server).
            ComfyUINodeErrors: the server refused the graph (per node and input; the item fails).
            ComfyUIExecutionError: the prompt failed or was interrupted while running (the item fails).
            ComfyUIError: any other refusal, including a prompt that produced no output.
            TimeoutError: the prompt did not finish by the runner's deadline.
        """
        ...
