"""The CivitAI client against the fake API: cursors followed as given, the key only in a header, backoff on
429/5xx (1 s doubling, capped at 30 s), other 4xx at once, and errors that name the status but never the key."""

from __future__ import annotations

import httpx2
import pytest

from mcp_storyboard.errors import CivitAIError, NotFoundError
from mcp_storyboard.integrations.civitai import CivitAIClient, ModelsQuery
from tests.fakes.civitai import FakeCivitAI, model

KEY = "sk-civitai-secret-1234"


def catalog(count: int) -> FakeCivitAI:
    return FakeCivitAI(models=[model(i, f"Model {i}", "LORA" if i % 2 else "Checkpoint") for i in range(1, count + 1)])


async def test_pages_follow_the_cursor_civitai_returns_until_it_is_missing() -> None:
    fake = catalog(5)
    client = fake.client()
    query = ModelsQuery(limit=2)
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(5):
        page = await client.models(query, cursor)
        seen += [item["id"] for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [1, 2, 3, 4, 5]
    assert fake.requests[0].url.params.get("cursor") is None
    assert [r.url.params.get("cursor") is None for r in fake.requests[1:]] == [False, False]
    assert all("page" not in r.url.params for r in fake.requests)  # cursors only: page+query is a 400


async def test_query_parameters_use_civitai_names_and_repeat_types() -> None:
    fake = catalog(4)
    await fake.client().models(ModelsQuery(query="model", types=("LORA", "LoCon"), base_models=("SDXL 1.0",),
                                           nsfw=True, sort="Newest", limit=3))  # fmt: skip
    params = fake.requests[0].url.params
    assert params.get_list("types") == ["LORA", "LoCon"]
    assert (params["query"], params["baseModels"], params["nsfw"], params["sort"], params["limit"]) == (
        "model", "SDXL 1.0", "true", "Newest", "3")  # fmt: skip
    assert str(fake.requests[0].url).startswith("https://civitai.test/api/v1/models?")


async def test_the_key_travels_as_a_bearer_header_never_in_the_url() -> None:
    fake = catalog(1)
    await fake.client(api_key=KEY).models(ModelsQuery())
    request = fake.requests[0]
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in str(request.url)
    anonymous = catalog(1)
    await anonymous.client().models(ModelsQuery())
    assert "authorization" not in anonymous.requests[0].headers
    assert KEY not in repr(fake.client(api_key=KEY))


async def test_429_and_5xx_are_retried_with_exponential_backoff_capped_at_30_seconds() -> None:
    fake = catalog(2)
    fake.failures = [429, 503, 500, 429, 502, 429, 429]
    page = await fake.client(retries=7).models(ModelsQuery())
    assert [item["id"] for item in page.items] == [1, 2]
    assert fake.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert len(fake.requests) == 8


async def test_retries_run_out_with_an_error_naming_the_status_and_never_the_key() -> None:
    fake = catalog(1)
    fake.failures = [429] * 6
    with pytest.raises(CivitAIError) as caught:
        await fake.client(api_key=KEY).models(ModelsQuery())
    assert "HTTP 429" in str(caught.value) and "cursor" in str(caught.value)
    assert KEY not in str(caught.value)
    assert len(fake.requests) == 6 and len(fake.sleeps) == 5


@pytest.mark.parametrize("status", [400, 401, 403])
async def test_other_client_errors_are_not_retried(status: int) -> None:
    fake = catalog(1)
    fake.failures = [status]
    with pytest.raises(CivitAIError, match=f"HTTP {status}"):
        await fake.client().models(ModelsQuery())
    assert len(fake.requests) == 1 and fake.sleeps == []


async def test_an_unknown_model_is_not_found_and_a_known_one_comes_whole() -> None:
    fake = catalog(2)
    client = fake.client()
    assert (await client.model(2))["modelVersions"][0]["id"] == 2000
    with pytest.raises(NotFoundError, match="CivitAI model '99'"):
        await client.model(99)


async def test_an_unreachable_api_is_retried_then_reported_without_a_traceback() -> None:
    calls: list[str] = []
    sleeps: list[float] = []

    def refuse(request: httpx2.Request) -> httpx2.Response:
        calls.append(str(request.url))
        raise httpx2.ConnectError("connection refused", request=request)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client = CivitAIClient(base_url="https://civitai.test/api/v1", transport=httpx2.MockTransport(refuse),
                           sleep=sleep, retries=2)  # fmt: skip
    with pytest.raises(CivitAIError, match="could not be reached .ConnectError.") as caught:
        await client.models(ModelsQuery())
    assert "CIVITAI_BASE_URL" in str(caught.value)
    assert len(calls) == 3 and sleeps == [1.0, 2.0]


async def test_an_answer_without_items_is_an_error() -> None:
    client = CivitAIClient(base_url="https://civitai.test/api/v1",
                           transport=httpx2.MockTransport(lambda r: httpx2.Response(200, json={"oops": 1})))  # fmt: skip
    with pytest.raises(CivitAIError, match="without an items list"):
        await client.models(ModelsQuery())
