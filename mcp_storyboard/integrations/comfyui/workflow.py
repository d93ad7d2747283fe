"""Custom workflows: check that a caller's graph is in ComfyUI's API format, and patch named inputs into it.

Plain functions, no I/O, so the generation service can refuse a bad workflow when the batch is queued and the runner
applies the same patches when it runs. A patch addresses a node by its id or by its unique ``_meta.title`` (the
title a user gave the node in the UI, which survives re-exports while ids may not). Errors name the node and input
and list the ones that exist.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.integrations.comfyui.graph import Graph
from mcp_storyboard.models.generation import WorkflowInput

LISTED = 20
"""Nodes or inputs named in an error at most (a big workflow has hundreds)."""
API_FORMAT_HINT = ("export the workflow from ComfyUI with 'Export (API)' (API format: "
                   '{"<node id>": {"class_type": ..., "inputs": {...}}})')


def check_workflow(workflow: Any, *, field: str = "workflow") -> Graph:
    """``workflow`` when it is an API-format graph whose links point at nodes it has.

    Raises:
        ValidationError: not an object, the UI format, a node without ``class_type`` or ``inputs`` object, or a
            link to a node that is not in the graph (naming the node, input and link).
    """
    if not isinstance(workflow, dict) or not workflow:
        raise ValidationError(field, "must be a non-empty API-format graph object", hint=API_FORMAT_HINT)
    if isinstance(workflow.get("nodes"), list) and "links" in workflow:
        raise ValidationError(field, "is in ComfyUI's UI format (it has 'nodes' and 'links'), not the API format",
                              hint=API_FORMAT_HINT)
    for node_id, node in workflow.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str) or not node["class_type"]:
            raise ValidationError(f"{field}.{node_id}", "is not a node: it needs a 'class_type' string",
                                  hint=API_FORMAT_HINT)
        inputs = node.get("inputs", {})
        if not isinstance(inputs, dict):
            raise ValidationError(f"{field}.{node_id}.inputs", "must be an object of input values",
                                  hint=API_FORMAT_HINT)
        for name, value in inputs.items():
            if _is_link(value) and value[0] not in workflow:
                raise ValidationError(
                    f"{field}.{node_id}.inputs.{name}",
                    f"links to node '{value[0]}', which is not in the workflow ({node['class_type']} {node_id})",
                    hint="nodes: " + _listing(workflow),
                )
    return workflow


def patch_workflow(workflow: Graph, patches: Sequence[WorkflowInput], *, field: str = "workflow_inputs") -> Graph:
    """A copy of ``workflow`` with each patch's value set, in order; ``workflow`` itself is left unchanged.

    Raises:
        ValidationError: a patch names no node (by id or title), a title several nodes share, or an input its node
            does not have (listing the nodes or the node's inputs).
    """
    graph = copy.deepcopy(workflow)
    for index, patch in enumerate(patches):
        node_id = _resolve(graph, patch.node, field=f"{field}[{index}].node")
        node = graph[node_id]
        inputs = node.setdefault("inputs", {})
        if patch.input not in inputs:
            raise ValidationError(
                f"{field}[{index}].input",
                f"node {node_id} ({node['class_type']}) has no input '{patch.input}'",
                allowed=sorted(inputs)[:LISTED] or ["(it has no inputs)"],
            )
        inputs[patch.input] = copy.deepcopy(patch.value)
    return graph


def title_of(node: Mapping[str, Any]) -> str | None:
    """The title a user gave a node in the UI (``_meta.title``), if any."""
    meta = node.get("_meta")
    title = meta.get("title") if isinstance(meta, dict) else None
    return title if isinstance(title, str) and title else None


def _resolve(graph: Graph, ref: str, *, field: str) -> str:
    if ref in graph:
        return ref
    titled = [node_id for node_id, node in graph.items() if title_of(node) == ref]
    if len(titled) == 1:
        return titled[0]
    if titled:
        raise ValidationError(field, f"the title '{ref}' is shared by nodes {', '.join(titled[:LISTED])}",
                              hint="name the node by its id instead")
    raise ValidationError(field, f"no node has the id or title '{ref}'", hint="nodes: " + _listing(graph))


def _listing(graph: Graph) -> str:
    """``3 (KSampler), 6 'Positive' (CLIPTextEncode), ...``: how a caller can address the nodes."""
    shown = []
    for node_id, node in list(graph.items())[:LISTED]:
        title = title_of(node) if isinstance(node, dict) else None
        kind = node.get("class_type", "?") if isinstance(node, dict) else "?"
        shown.append(f"{node_id} '{title}' ({kind})" if title else f"{node_id} ({kind})")
    more = len(graph) - LISTED
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _is_link(value: Any) -> bool:
    """ComfyUI reads a two-item list ``[node_id (str), output_slot (number)]`` as a link (``graph_utils.is_link``)."""
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], int | float) and not isinstance(value[1], bool))
