"""Reading a finished prompt's history: the node and exception of a failure, an interrupt, and the files of every
output shape ComfyUI and common custom nodes write."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_storyboard.errors import ComfyUIExecutionError
from mcp_storyboard.integrations.comfyui.outputs import (
    OutputRef,
    check_status,
    kind_of,
    output_refs,
)


def entry(last: str, data: dict[str, Any] | None = None, *, status_str: str = "error") -> dict[str, Any]:
    return {"outputs": {}, "status": {"status_str": status_str, "completed": False, "messages": [
        ["execution_start", {"prompt_id": "p", "timestamp": 1}], [last, {"prompt_id": "p", **(data or {})}]]}}


def test_an_execution_error_names_the_node_its_type_and_the_exception_but_not_the_traceback() -> None:
    failed = entry("execution_error", {"node_id": "3", "node_type": "KSampler", "exception_type": "RuntimeError",
                                       "exception_message": "x" * 2000, "traceback": ["/secret/path.py"]})
    with pytest.raises(ComfyUIExecutionError) as raised:
        check_status(failed, where="http://box", prompt_id="p")
    assert (raised.value.node_id, raised.value.node_type) == ("3", "KSampler")
    assert str(raised.value).startswith("ComfyUI at http://box failed prompt p at node 3 (KSampler): RuntimeError: x")
    assert "/secret" not in str(raised.value) and len(raised.value.message) < 700


def test_an_interrupt_and_a_bare_error_status_are_execution_errors() -> None:
    with pytest.raises(ComfyUIExecutionError, match="interrupted prompt p at node 8 \\(VAEDecode\\)") as raised:
        check_status(entry("execution_interrupted", {"node_id": "8", "node_type": "VAEDecode"}), where="w",
                     prompt_id="p")
    assert raised.value.node_id == "8"
    with pytest.raises(ComfyUIExecutionError, match="in error without saying where"):
        check_status({"status": {"status_str": "error", "messages": "odd"}}, where="w", prompt_id="p")


def test_a_success_passes() -> None:
    check_status(entry("execution_success", status_str="success"), where="w", prompt_id="p")
    check_status({"outputs": {}}, where="w", prompt_id="p")


def test_files_under_any_key_are_read_and_animated_or_gif_outputs_are_videos() -> None:
    outputs = {
        "9": {"images": [{"filename": "a_00001_.png", "subfolder": "", "type": "output"},
                         {"filename": "a_00002_.png", "subfolder": "", "type": "output"}]},
        "12": {"images": [{"filename": "v_00001_.mp4", "subfolder": "video", "type": "output"}], "animated": [True]},
        "14": {"gifs": [{"filename": "c_00001.mp4", "subfolder": "", "type": "output", "format": "video/h264-mp4"}]},
        "15": {"audio": [{"filename": "s.flac", "subfolder": "", "type": "output"}], "text": ["hello"]},
        "16": {"images": [{"filename": "preview.png", "subfolder": "", "type": "temp"}]},
        "17": "odd", "18": {"images": [{"subfolder": ""}, "odd"]},
    }
    refs = output_refs({"outputs": outputs})
    assert [(r.node_id, r.filename, r.subfolder, r.animated) for r in refs] == [
        ("9", "a_00001_.png", "", False), ("9", "a_00002_.png", "", False), ("12", "v_00001_.mp4", "video", True),
        ("14", "c_00001.mp4", "", True)]


def test_previews_are_the_outputs_only_when_nothing_was_saved() -> None:
    preview = {"images": [{"filename": "p.png", "subfolder": "", "type": "temp"}]}
    assert [r.folder_type for r in output_refs({"outputs": {"5": preview}})] == ["temp"]
    assert output_refs({"outputs": {}}) == [] and output_refs({}) == []


@pytest.mark.parametrize(
    ("filename", "animated", "served", "kind"),
    [
        ("a.png", False, "image/png", "image"),
        ("a.webp", True, "image/webp", "video"),
        ("v.mp4", False, "video/mp4", "video"),
        ("v.mp4", False, "application/octet-stream", "video"),
        ("a.png", False, "", "image"),
        ("a.latent", False, "application/octet-stream", None),
        ("s.flac", False, "audio/flac", None),
    ],
)
def test_the_kind_of_a_file_comes_from_its_node_then_its_type_then_its_name(
    filename: str, animated: bool, served: str, kind: str | None
) -> None:
    assert kind_of(OutputRef("1", filename, "", "output", animated), served) == kind
