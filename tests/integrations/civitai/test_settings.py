"""CIVITAI_BASE_URL and CIVITAI_API_KEY: read from the environment, validated, wired into the services' client,
and the key never printed."""

from __future__ import annotations

import logging

import pytest

from mcp_storyboard.config import Settings
from mcp_storyboard.errors import ConfigError
from mcp_storyboard.services.container import open_services

KEY = "sk-civitai-secret-1234"


def test_defaults_are_civitai_com_without_a_key() -> None:
    settings = Settings.from_env({})
    assert (settings.civitai_base_url, settings.civitai_api_key) == ("https://civitai.com/api/v1", None)


def test_the_environment_sets_both_and_no_printed_form_shows_the_key(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.from_env({"CIVITAI_BASE_URL": " http://127.0.0.1:9/api/v1 ", "CIVITAI_API_KEY": f" {KEY} "})
    assert (settings.civitai_base_url, settings.civitai_api_key) == ("http://127.0.0.1:9/api/v1", KEY)
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings %s %r", settings, settings)
    assert KEY not in repr(settings) and KEY not in str(settings) and KEY not in caplog.text


@pytest.mark.parametrize("url", ["civitai.com/api/v1", "ftp://civitai.com", "https://"])
def test_a_base_url_that_is_not_http_is_refused_naming_the_variable(url: str) -> None:
    with pytest.raises(ConfigError, match="CIVITAI_BASE_URL .* is not an http.s. URL"):
        Settings.from_env({"CIVITAI_BASE_URL": url})


async def test_the_services_call_the_configured_url_with_the_configured_key() -> None:
    settings = Settings.from_env({"MONGODB_URI": "memory://", "CIVITAI_BASE_URL": "https://mirror.test/api/v1",
                                  "CIVITAI_API_KEY": KEY})  # fmt: skip
    async with open_services(settings) as services:
        client = services.civitai.client
        assert (client.base_url, client.api_key) == ("https://mirror.test/api/v1", KEY)
        assert KEY not in repr(client)
