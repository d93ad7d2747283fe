"""Custom workflows: only API-format graphs are accepted, patches reach nodes by id or unique title, and every
refusal names the node and input and lists what exists, leaving the caller's workflow unchanged."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.integrations.comfyui.workflow import check_workflow, patch_workflow
from mcp_storyboard.models.generation import WorkflowInput
from tests.integrations.comfyui.items import empty_image_workflow


def patches(*triples: tuple[str, str, Any]) -> list[WorkflowInput]:
    return [WorkflowInput(node=node, input=name, value=value) for node, name, value in triples]


def test_patches_reach_nodes_by_id_and_by_title_and_leave_the_original_alone() -> None:
    workflow = empty_image_workflow()
    before = copy.deepcopy(workflow)
    patched = patch_workflow(workflow, patches(("Canvas", "width", 128), ("1", "color", 0xFF0000),
                                               ("Save", "filename_prefix", "storyboard/c1"), ("1", "width", 256)))
    assert patched["1"]["inputs"] == {"width": 256, "height": 64, "batch_size": 1, "color": 0xFF0000}
    assert patched["2"]["inputs"] == {"images": ["1", 0], "filename_prefix": "storyboard/c1"}
    assert workflow == before


def test_a_node_id_wins_over_a_title_that_looks_like_one() -> None:
    workflow = empty_image_workflow()
    workflow["2"]["_meta"]["title"] = "1"
    assert patch_workflow(workflow, patches(("1", "width", 99)))["1"]["inputs"]["width"] == 99


def test_an_unknown_node_is_refused_listing_ids_titles_and_classes() -> None:
    with pytest.raises(ValidationError) as refused:
        patch_workflow(empty_image_workflow(), patches(("1", "width", 1), ("Positive Prompt", "text", "x")))
    assert refused.value.field == "workflow_inputs[1].node"
    assert "no node has the id or title 'Positive Prompt'" in str(refused.value)
    assert "1 'Canvas' (EmptyImage), 2 'Save' (SaveImage)" in str(refused.value)


def test_a_title_two_nodes_share_is_refused_naming_both() -> None:
    workflow = empty_image_workflow()
    workflow["2"]["_meta"]["title"] = "Canvas"
    with pytest.raises(ValidationError, match="the title 'Canvas' is shared by nodes 1, 2. Name the node by its id"):
        patch_workflow(workflow, patches(("Canvas", "width", 1)))


def test_an_unknown_input_is_refused_listing_the_inputs_the_node_has() -> None:
    with pytest.raises(ValidationError) as refused:
        patch_workflow(empty_image_workflow(), patches(("Canvas", "seed", 1)))
    assert refused.value.field == "workflow_inputs[0].input"
    assert "node 1 (EmptyImage) has no input 'seed'" in str(refused.value)
    assert refused.value.allowed == ["batch_size", "color", "height", "width"]


def test_an_api_format_graph_passes_the_check_unchanged() -> None:
    workflow = empty_image_workflow()
    assert check_workflow(workflow) is workflow


@pytest.mark.parametrize(
    ("workflow", "field", "said"),
    [
        ([], "workflow", "non-empty API-format graph"),
        ({}, "workflow", "non-empty API-format graph"),
        ({"nodes": [{"id": 1, "type": "KSampler"}], "links": [], "version": 0.4}, "workflow", "UI format"),
        ({"1": {"inputs": {}}}, "workflow.1", "needs a 'class_type'"),
        ({"1": "KSampler"}, "workflow.1", "needs a 'class_type'"),
        ({"1": {"class_type": "SaveImage", "inputs": ["images"]}}, "workflow.1.inputs", "object of input values"),
        ({"2": {"class_type": "SaveImage", "inputs": {"images": ["9", 0]}}}, "workflow.2.inputs.images",
         "links to node '9', which is not in the workflow (SaveImage 2)"),
    ],
)
def test_what_is_not_an_api_format_graph_is_refused_naming_where(workflow: Any, field: str, said: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_workflow(workflow)
    assert refused.value.field == field and said in str(refused.value)
    assert "Export (API)" in str(refused.value) or "Nodes: 2 (SaveImage)" in str(refused.value)


def test_a_pair_of_numbers_is_a_value_not_a_link() -> None:
    workflow = {"1": {"class_type": "Resize", "inputs": {"size": [512, 512]}},
                "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}
    assert check_workflow(workflow) is workflow
