"""Installed resources through a client: listed, read over the serving services (a template through its
``ctx``, a static resource through ``scope.current_services``), errors as the SDK maps them."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS

from .conftest import StubServices, example_server

pytestmark = pytest.mark.anyio

Connect = Callable[..., Client]


async def test_installed_templates_and_static_resources_are_listed(connect: Connect) -> None:
    async with connect(example_server()) as client:
        templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
        statics = [(r.uri, r.title, r.mime_type) for r in (await client.list_resources()).resources]
    assert templates == ["storyboard://things/{thing_id}"]
    assert statics == [("storyboard://things", "Things", "text/plain")]


async def test_a_template_and_a_static_resource_read_the_serving_services(connect: Connect) -> None:
    services = StubServices()
    services.things["t2"] = services.things["t1"]
    async with connect(example_server(services)) as client:
        one = await client.read_resource("storyboard://things/t1")
        listing = await client.read_resource("storyboard://things")
    assert one.contents[0].text == '{"id":"t1","name":"lamp"}'  # type: ignore[union-attr]
    assert one.contents[0].mime_type == "application/json"
    assert listing.contents[0].text == "t1\nt2"  # type: ignore[union-attr]


async def test_a_missing_resource_answers_invalid_params_with_the_coded_message(connect: Connect) -> None:
    async with connect(example_server()) as client:
        with pytest.raises(MCPError) as caught:
            await client.read_resource("storyboard://things/t9")
    assert caught.value.error.code == INVALID_PARAMS
    assert caught.value.error.message == "[not-found] thing 't9' does not exist"


async def test_an_unexpected_resource_failure_is_masked_and_logged(
    connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        async with connect(example_server()) as client:
            with pytest.raises(MCPError) as caught:
                await client.read_resource("storyboard://things/boom")
    assert caught.value.error.code == INTERNAL_ERROR
    assert "secret-host" not in caught.value.error.message
    assert "secret-host" in caplog.text


def test_the_real_server_installs_the_storyboard_resources() -> None:
    from mcp_storyboard.server.build import DEFAULT_INSTALLERS
    from mcp_storyboard.server.resources import register_resources

    assert DEFAULT_INSTALLERS == (register_resources,)
