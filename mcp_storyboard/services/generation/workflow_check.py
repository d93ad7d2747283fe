"""Queue-time check of a custom workflow: an API-format graph whose patched inputs exist, so a request that could
never run is refused before it is queued (the runner patches the same way when it runs the item)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.models.generation import WorkflowInput

SHOWN = 20
"""Node ids or input names an error lists at most."""


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f", ... ({len(names)} in all)" if len(names) > SHOWN else "")


def check_workflow(workflow: Mapping[str, Any], inputs: Sequence[WorkflowInput]) -> None:
    """Raises ValidationError naming the node (and input) when ``workflow`` is not an API-format graph
    (``{node_id: {"class_type": str, "inputs": {...}}}``; the UI's "Save" format has ``nodes`` and ``links``
    instead) or a patch names a node or input it lacks."""
    if not workflow:
        raise ValidationError("workflow", "is empty", hint="export it with ComfyUI's Save (API)")
    if "nodes" in workflow and "links" in workflow:
        raise ValidationError("workflow", "is in ComfyUI's UI format (nodes and links), not the API format",
                              hint="export it with ComfyUI's Save (API)")
    for node_id, node in workflow.items():
        if not isinstance(node, Mapping) or not isinstance(node.get("class_type"), str) \
                or not isinstance(node.get("inputs"), Mapping):
            raise ValidationError(f"workflow.{node_id}", "is not an API-format node: it needs class_type (a string) "
                                  "and inputs (an object)", hint="export the graph with ComfyUI's Save (API)")
    for n, patch in enumerate(inputs):
        node_id = _node(workflow, patch.node, n)
        names = sorted(str(k) for k in workflow[node_id]["inputs"])
        if patch.input not in workflow[node_id]["inputs"]:
            raise ValidationError(f"workflow_inputs[{n}].input", f"node {node_id} ({workflow[node_id]['class_type']}) "
                                  f"has no input '{patch.input}'", hint=f"its inputs: {_listing(names)}")


def _node(workflow: Mapping[str, Any], wanted: str, n: int) -> str:
    if wanted in workflow:
        return wanted
    titled = [node_id for node_id, node in workflow.items()
              if isinstance(meta := node.get("_meta"), Mapping) and meta.get("title") == wanted]
    if len(titled) == 1:
        return titled[0]
    field = f"workflow_inputs[{n}].node"
    if titled:
        raise ValidationError(field, f"the title '{wanted}' names {len(titled)} nodes ({_listing(titled)})",
                              hint="use a node id instead")
    raise ValidationError(field, f"no node has the id or title '{wanted}'",
                          hint=f"node ids: {_listing(sorted(workflow))}")
