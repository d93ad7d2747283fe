"""Completion dispatch: per prompt or template argument, wildcard refs, the 100-value cap, unknown refs."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, PromptReference, ResourceTemplateReference

from mcp_storyboard.server.completions import MAX_COMPLETIONS, CompleterSpec, cap

from .conftest import StubServices, example_server

pytestmark = pytest.mark.anyio

Connect = Callable[..., Client]


async def test_a_wildcard_prompt_completer_caps_at_100_values_with_total_and_has_more(connect: Connect) -> None:
    async with connect(example_server()) as client:
        result = await client.complete(PromptReference(name="review_continuity"), {"name": "project_id", "value": "p"})
    completion = result.completion
    assert len(completion.values) == MAX_COMPLETIONS
    assert completion.values[:2] == ["p000", "p001"]
    assert (completion.total, completion.has_more) == (150, True)


async def test_a_completer_filters_on_the_partial_value_and_reads_the_serving_services(connect: Connect) -> None:
    services = StubServices()
    async with connect(example_server(services)) as client:
        result = await client.complete(PromptReference(name="plan_storyboard"), {"name": "project_id", "value": "t"})
    assert result.completion.values == ["t1"]
    assert (result.completion.total, result.completion.has_more) == (1, False)


async def test_a_prompt_specific_completer_answers_distinct_values(connect: Connect) -> None:
    async with connect(example_server()) as client:
        result = await client.complete(PromptReference(name="write_clip_prompts"), {"name": "clip_id", "value": ""})
    assert result.completion.values == ["c1", "c2"]


async def test_an_argument_without_a_completer_answers_no_values(connect: Connect) -> None:
    async with connect(example_server()) as client:
        result = await client.complete(PromptReference(name="plan_storyboard"), {"name": "style_notes", "value": "n"})
    assert result.completion.values == []


@pytest.mark.parametrize(
    "ref",
    [PromptReference(name="no_such_prompt"), ResourceTemplateReference(uri="storyboard://nothing/{id}")],
    ids=["prompt", "template"],
)
async def test_completing_an_unknown_prompt_or_template_answers_invalid_params(
    connect: Connect, ref: PromptReference | ResourceTemplateReference
) -> None:
    async with connect(example_server()) as client:
        with pytest.raises(MCPError) as caught:
            await client.complete(ref, {"name": "project_id", "value": ""})
    assert caught.value.error.code == INVALID_PARAMS


async def test_a_resource_template_argument_dispatches_to_its_completer(connect: Connect) -> None:
    services = StubServices()
    services.things["t2"] = services.things["t1"]
    async with connect(example_server(services)) as client:
        result = await client.complete(
            ResourceTemplateReference(uri="storyboard://things/{thing_id}"), {"name": "thing_id", "value": "t"}
        )
    assert result.completion.values == ["t1", "t2"]


async def test_a_completer_sees_the_arguments_already_resolved(connect: Connect) -> None:
    seen: list[dict[str, str]] = []

    async def scene_ids(value: str, context: Mapping[str, str], services: object) -> list[str]:
        seen.append(dict(context))
        return ["s1"]

    spec = CompleterSpec(kind="resource", ref="storyboard://things/{thing_id}", argument="thing_id", fn=scene_ids)
    async with connect(example_server(completers=[spec])) as client:
        await client.complete(ResourceTemplateReference(uri="storyboard://things/{thing_id}"),
                              {"name": "thing_id", "value": ""}, context_arguments={"project_id": "p1"})
    assert seen == [{"project_id": "p1"}]


def test_cap_keeps_first_occurrences_in_order() -> None:
    completion = cap(["b", "a", "b", *[f"x{i}" for i in range(200)]])
    assert completion.values[:3] == ["b", "a", "x0"]
    assert (len(completion.values), completion.total, completion.has_more) == (100, 202, True)
