"""An async client of CivitAI's public REST API: ``GET /models`` with cursors, ``/models/{id}``, ``/model-versions/{id}``.

Every request goes to the configured base URL only, with timeouts; the API key (when set) travels as an
``Authorization: Bearer`` header, never in a URL, so it cannot leak into a message or a log. 429 and 5xx (and
transport failures) are retried with exponential backoff (1 s doubling up to 30 s: CivitAI publishes no rate limit
and rarely sends ``Retry-After``); any other 4xx is answered at once. Errors are :class:`CivitAIError` with the
status and CivitAI's own message, never the key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import anyio
import httpx2

from mcp_storyboard.errors import CivitAIError, NotFoundError

DEFAULT_BASE_URL = "https://civitai.com/api/v1"
CivitAIModelType = Literal[
    "Checkpoint", "TextualInversion", "Hypernetwork", "AestheticGradient", "LORA", "LoCon", "DoRA", "Controlnet",
    "Upscaler", "MotionModule", "VAE", "Poses", "Wildcards", "Workflows", "Detection", "Other",
]  # fmt: skip
"""CivitAI's ``ModelType`` values (``GET /enums``)."""
MODEL_TYPES: tuple[str, ...] = get_args(CivitAIModelType)
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
RETRIES = 5
"""Retries after the first attempt on 429/5xx: with 1+2+4+8+16 s of backoff a throttled sync waits ~31 s at most."""
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class ModelsQuery:
    """The ``GET /models`` parameters a sync sends (CivitAI's names in ``params``)."""

    query: str | None = None
    types: Sequence[str] = ()
    base_models: Sequence[str] = ()
    tag: str | None = None
    nsfw: bool = False
    sort: str | None = None
    limit: int = 100

    def params(self, cursor: str | None) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = [("limit", str(self.limit)), ("nsfw", "true" if self.nsfw else "false")]
        params += [("types", t) for t in self.types] + [("baseModels", b) for b in self.base_models]
        for name, value in (("query", self.query), ("tag", self.tag), ("sort", self.sort), ("cursor", cursor)):
            if value:
                params.append((name, value))
        return params


@dataclass(frozen=True)
class ModelsPage:
    """One page of ``GET /models``: the raw items and the cursor of the next page (None at the end)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass
class CivitAIClient:
    """CivitAI's REST API at ``base_url``; ``transport`` and ``sleep`` are injectable (tests: a MockTransport and a
    sleep that only records)."""

    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = field(default=None, repr=False)
    transport: httpx2.AsyncBaseTransport | None = field(default=None, repr=False)
    sleep: Sleep = field(default=anyio.sleep, repr=False)
    retries: int = RETRIES

    async def models(self, query: ModelsQuery, cursor: str | None = None) -> ModelsPage:
        """One page of models matching ``query``, from ``cursor`` (None: the first page)."""
        body = await self._get("/models", query.params(cursor))
        items = body.get("items")
        metadata = body.get("metadata") or {}
        if not isinstance(items, list) or not isinstance(metadata, dict):
            raise CivitAIError("CivitAI answered /models without an items list", hint="try again later")
        next_cursor = metadata.get("nextCursor")
        return ModelsPage(
            items=[item for item in items if isinstance(item, dict)],
            next_cursor=str(next_cursor) if next_cursor not in (None, "") else None,
        )

    async def model(self, model_id: int) -> dict[str, Any]:
        """One model with its versions.

        Raises:
            NotFoundError: CivitAI has no model with this id.
        """
        return await self._get(f"/models/{int(model_id)}", [], kind="CivitAI model", ident=model_id)

    async def _get(
        self, path: str, params: list[tuple[str, str]], *, kind: str | None = None, ident: object = None
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json", "User-Agent": "mcp-storyboard"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        timeout = httpx2.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
        url = self.base_url.rstrip("/") + path
        delay = FIRST_BACKOFF
        # trust_env off: requests go to the configured base URL itself, never through an environment proxy.
        async with httpx2.AsyncClient(transport=self.transport, timeout=timeout, trust_env=False) as client:
            for attempt in range(self.retries + 1):
                last = attempt == self.retries
                try:
                    response = await client.get(url, params=tuple(params), headers=headers)
                except httpx2.HTTPError as exc:
                    if last:
                        raise CivitAIError(f"CivitAI could not be reached ({type(exc).__name__})",
                                           hint="check CIVITAI_BASE_URL and the network, then try again") from None
                else:
                    if response.status_code == 200:
                        return _json_object(response)
                    if kind is not None and response.status_code == 404:
                        raise NotFoundError(kind, ident)
                    if not _retryable(response.status_code) or last:
                        raise _status_error(response)
                await self.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _json_object(response: httpx2.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise CivitAIError("CivitAI answered with something that is not JSON", hint="try again later") from None
    if not isinstance(body, dict):
        raise CivitAIError("CivitAI answered with JSON that is not an object", hint="try again later")
    return body


def _status_error(response: httpx2.Response) -> CivitAIError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = ""
    if isinstance(body, dict):
        detail = str(body.get("error") or body.get("message") or "")[:300]
    hints = {
        401: "set CIVITAI_API_KEY to a valid key",
        403: "set CIVITAI_API_KEY to a key that may see this",
        429: "CivitAI is throttling: wait a minute and resume with the returned cursor",
    }
    hint = hints.get(status, "try again later" if status >= 500 else "check the query arguments")
    return CivitAIError(f"CivitAI answered HTTP {status}" + (f": {detail}" if detail else ""), hint=hint)
