"""Reading a finished prompt's ``/history`` entry (``reference/comfyui-api.md`` §1.3): how it ended, and which files it
wrote. Plain functions, no I/O.

Outputs are read as "any list of ``{filename, subfolder, type}`` under any key": core image nodes use ``images``,
video and animated nodes use the same key plus ``animated: [true]``, VideoHelperSuite uses ``gifs``. Audio and text
outputs are not clip media and are left out.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any

from mcp_storyboard.errors import ComfyUIExecutionError
from mcp_storyboard.models.generation import GenerationKind

EXCERPT = 500
"""Characters of ComfyUI's exception message kept in an error (its traceback, which names paths, never is)."""
NOT_MEDIA_KEYS = frozenset({"audio", "text", "animated"})
VIDEO_KEYS = frozenset({"gifs"})


@dataclass(frozen=True)
class GeneratedFile:
    """One output file of a finished prompt (``services.generation.ports`` re-exports it for the worker)."""

    data: bytes
    filename: str
    """The name ComfyUI gave it (e.g. ``storyboard_00001_.png``)."""
    content_type: str
    kind: GenerationKind
    """image or video: decides the clip gallery it joins."""


@dataclass(frozen=True)
class OutputRef:
    """A file a node wrote, as ``/view`` takes it."""

    node_id: str
    filename: str
    subfolder: str
    folder_type: str
    """output, or temp for previews."""
    animated: bool
    """Written by a video or animated node (SaveVideo, SaveWEBM, SaveAnimatedWEBP/PNG, VideoCombine)."""


def check_status(entry: dict[str, Any], *, where: str, prompt_id: str) -> None:
    """Return when the prompt succeeded; ``where`` names the server in messages.

    Raises:
        ComfyUIExecutionError: an ``execution_error`` (naming the node, its type and the exception) or an
            ``execution_interrupted``, or a status of error with neither.
    """
    status = entry.get("status")
    status = status if isinstance(status, dict) else {}
    messages = status.get("messages")
    for message in messages if isinstance(messages, list) else []:
        if not (isinstance(message, list) and len(message) == 2 and isinstance(message[1], dict)):
            continue
        event, data = message
        node_id, node_type = _text(data.get("node_id")), _text(data.get("node_type"))
        at = f" at node {node_id} ({node_type})" if node_id else ""
        if event == "execution_error":
            kind = _text(data.get("exception_type")) or "error"
            said = _text(data.get("exception_message")).strip()[:EXCERPT]
            raise ComfyUIExecutionError(
                f"ComfyUI at {where} failed prompt {prompt_id}{at}: {kind}{': ' + said if said else ''}",
                node_id=node_id or None, node_type=node_type or None,
                hint="fix the node's inputs or the server (a missing model, out of memory), then retry the batch",
            )
        if event == "execution_interrupted":
            raise ComfyUIExecutionError(f"ComfyUI at {where} interrupted prompt {prompt_id}{at}",
                                        node_id=node_id or None, node_type=node_type or None,
                                        hint="someone interrupted it on the server; retry the batch")
    if status.get("status_str") == "error":
        raise ComfyUIExecutionError(f"ComfyUI at {where} ended prompt {prompt_id} in error without saying where",
                                    hint="check the server's log")


def output_refs(entry: dict[str, Any]) -> list[OutputRef]:
    """Every file in the entry's ``outputs``, in node order; the saved ones (type ``output``) when there are any,
    else the previews (a workflow that ends in PreviewImage). Raises nothing: odd parts are skipped."""
    outputs = entry.get("outputs")
    found: list[OutputRef] = []
    for node_id, ui in outputs.items() if isinstance(outputs, dict) else ():
        if not isinstance(ui, dict):
            continue
        flags = ui.get("animated")
        animated = isinstance(flags, list) and any(flag is True for flag in flags)
        for key, files in ui.items():
            if key in NOT_MEDIA_KEYS or not isinstance(files, list):
                continue
            for file in files:
                if not isinstance(file, dict) or not isinstance(file.get("filename"), str) or not file["filename"]:
                    continue
                ref = OutputRef(str(node_id), file["filename"], _text(file.get("subfolder")),
                                _text(file.get("type")) or "output", animated or key in VIDEO_KEYS)
                if ref not in found:
                    found.append(ref)
    saved = [ref for ref in found if ref.folder_type == "output"]
    return saved or found


def kind_of(ref: OutputRef, content_type: str) -> GenerationKind | None:
    """image or video for a downloaded file, from the node's animated flag, then the served type, then the file
    name; None for anything else (audio, latents)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("", "application/octet-stream"):
        media = mimetypes.guess_type(ref.filename)[0] or ""
    if media.startswith("video/") or (ref.animated and media.startswith("image/")):
        return "video"
    return "image" if media.startswith("image/") else None


def media_type(ref: OutputRef, content_type: str) -> str:
    """The served type without parameters; guessed from the file name when ComfyUI served a generic type."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("", "application/octet-stream"):
        return mimetypes.guess_type(ref.filename)[0] or "application/octet-stream"
    return media


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)
