"""An async client of one ComfyUI server, over ``httpx2`` with timeouts on every call.

ComfyUI has no auth and no versioned API; every route also answers under ``/api``, which is what its own frontend
uses, so the client does too. Errors never carry the response body beyond a short excerpt: ComfyUI's answers can
hold paths and command lines. This round builds what a health check needs (``system_stats``, ``object_info``);
submit, history, view and interrupt join the same class with the dispatcher.
"""

from __future__ import annotations

import ssl
from functools import cache
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx2

from mcp_storyboard.errors import ComfyUIError

CONNECT_TIMEOUT = 3.0
"""Seconds to open a connection: a server that takes longer is treated as offline."""
READ_TIMEOUT = 30.0
"""Seconds for an answer; ``/object_info`` of a big install is about 0.5 MB and 60 ms, so this is generous."""
EXCERPT = 200


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client: building one (loading the CA bundle) took about 20 ms per client, several
    times the cost of a whole check against a local server (``tests/benchmarks/bench_comfyui_check.py``)."""
    return httpx2.create_ssl_context()


class ComfyUIUnreachable(ComfyUIError):
    """Nothing answered at the server's address (refused, timed out, DNS): the server is offline."""


class ComfyUIClient:
    """Use as ``async with ComfyUIClient(url) as comfy: await comfy.system_stats()``.

    ``transport`` replaces the network (tests may pass an ``httpx2.MockTransport``); proxies from the environment
    are ignored, so calls go only to the registered address.
    """

    def __init__(self, base_url: str, *, transport: httpx2.AsyncBaseTransport | None = None,
                 timeout: httpx2.Timeout | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx2.AsyncClient(
            base_url=self.base_url, transport=transport, trust_env=False, follow_redirects=False, verify=_tls(),
            timeout=timeout or httpx2.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
        )

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._http.__aexit__(exc_type, exc, tb)

    async def system_stats(self) -> dict[str, Any]:
        """``GET /api/system_stats``: versions and devices; the cheap liveness probe."""
        return await self._get_object("/api/system_stats")

    async def object_info(self, node_class: str | None = None) -> dict[str, Any]:
        """``GET /api/object_info``: every node class with its input specs (the models and options it accepts);
        with ``node_class``, ``GET /api/object_info/{node_class}``: ``{node_class: info}``, or ``{}`` if unknown."""
        if node_class is None:
            return await self._get_object("/api/object_info")
        return await self._get_object(f"/api/object_info/{quote(node_class, safe='')}")

    async def _get_object(self, path: str) -> dict[str, Any]:
        response = await self._request("GET", path)
        try:
            body = response.json()
        except ValueError:
            raise ComfyUIError(f"ComfyUI at {self.base_url} answered {path} with something other than JSON",
                               hint="check that the URL is a ComfyUI server") from None
        if not isinstance(body, dict):
            raise ComfyUIError(f"ComfyUI at {self.base_url} answered {path} with a {type(body).__name__}, "
                               "not an object", hint="check that the URL is a ComfyUI server")
        return body

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx2.TimeoutException:
            raise ComfyUIUnreachable(f"ComfyUI at {self.base_url} did not answer {path} in time",
                                     hint="check that the server is running and reachable") from None
        except httpx2.TransportError as exc:
            raise ComfyUIUnreachable(f"ComfyUI at {self.base_url} is unreachable ({type(exc).__name__})",
                                     hint="check that the server is running and reachable") from None
        if response.status_code >= 400:
            excerpt = response.text[:EXCERPT].strip()
            raise ComfyUIError(f"ComfyUI at {self.base_url} answered {method} {path} with HTTP "
                               f"{response.status_code}{': ' + excerpt if excerpt else ''}",
                               hint="check the server's log")
        return response
