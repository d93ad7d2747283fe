"""An async client of one ComfyUI server, over ``httpx2`` with timeouts on every call.

ComfyUI has no auth and no versioned API; every route also answers under ``/api``, which is what its own frontend
uses, so the client does too. Errors never carry the response body beyond a short excerpt: ComfyUI's answers can
hold paths and command lines. A server's credential, when it has one, goes only into the ``Authorization`` header.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from functools import cache
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx2

from mcp_storyboard.errors import ComfyUIError, ComfyUINodeErrors

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
    """Nothing answered at the server's address (refused, timed out, DNS): the server is offline.

    ``may_have_arrived`` is False when no connection was made (the request cannot have reached the server), True
    when it went quiet after the connection opened (a submitted prompt may be queued there).
    """

    def __init__(self, message: str, *, may_have_arrived: bool = True, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.may_have_arrived = may_have_arrived


class ComfyUIClient:
    """Use as ``async with ComfyUIClient(url) as comfy: await comfy.system_stats()``.

    ``transport`` replaces the network (tests may pass an ``httpx2.MockTransport``); proxies from the environment
    are ignored, so calls go only to the registered address.
    """

    def __init__(self, base_url: str, *, transport: httpx2.AsyncBaseTransport | None = None,
                 timeout: httpx2.Timeout | None = None, api_key: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx2.AsyncClient(
            base_url=self.base_url, transport=transport, trust_env=False, follow_redirects=False, verify=_tls(),
            timeout=timeout or httpx2.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT), headers=headers,
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

    async def submit(self, graph: dict[str, Any], *, client_id: str, prompt_id: str | None = None) -> str:
        """``POST /api/prompt``: queue an API-format graph; ComfyUI's prompt id (``prompt_id`` when given).

        Raises:
            ComfyUINodeErrors: the graph was refused (HTTP 400), one entry per node and input.
            ComfyUIUnreachable, ComfyUIError: as every call.
        """
        body: dict[str, Any] = {"prompt": graph, "client_id": client_id}
        if prompt_id is not None:
            body["prompt_id"] = prompt_id
        response = await self._request("POST", "/api/prompt", json=body, refused_graph=True)
        answer = _json_object(response, self.base_url, "/api/prompt")
        if not isinstance(answer.get("prompt_id"), str):
            raise ComfyUIError(f"ComfyUI at {self.base_url} queued a prompt without a prompt_id",
                               hint="check that the URL is a ComfyUI server")
        return str(answer["prompt_id"])

    async def history(self, prompt_id: str) -> dict[str, Any] | None:
        """``GET /api/history/{prompt_id}``: the prompt's entry (``outputs``, ``status``), or None while it is
        queued or running (ComfyUI answers ``{}`` until it is done)."""
        answer = await self._get_object(f"/api/history/{quote(prompt_id, safe='')}")
        entry = answer.get(prompt_id)
        return entry if isinstance(entry, dict) else None

    async def view(self, filename: str, *, subfolder: str = "", folder_type: str = "output") -> tuple[bytes, str]:
        """``GET /api/view``: an output file's bytes and content type."""
        params = {"filename": filename, "subfolder": subfolder, "type": folder_type}
        response = await self._request("GET", "/api/view", params=params)
        return response.content, response.headers.get("content-type", "application/octet-stream")

    async def queue(self) -> dict[str, Any]:
        """``GET /api/queue``: ``{"queue_running": [...], "queue_pending": [...]}``."""
        return await self._get_object("/api/queue")

    async def interrupt(self, prompt_id: str | None = None) -> None:
        """``POST /api/interrupt``: stop the running prompt (only if it is ``prompt_id``, when given). ComfyUI
        answers 200 whatever happened; confirm through ``history``."""
        await self._request("POST", "/api/interrupt", json={"prompt_id": prompt_id} if prompt_id else {})

    async def delete_queued(self, prompt_ids: Sequence[str]) -> None:
        """``POST /api/queue {"delete": [...]}``: drop prompts that have not started yet."""
        await self._request("POST", "/api/queue", json={"delete": list(prompt_ids)})

    async def _get_object(self, path: str) -> dict[str, Any]:
        response = await self._request("GET", path)
        return _json_object(response, self.base_url, path)

    async def _request(self, method: str, path: str, *, refused_graph: bool = False, **kwargs: Any) -> httpx2.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx2.TimeoutException as exc:
            raise ComfyUIUnreachable(f"ComfyUI at {self.base_url} did not answer {path} in time",
                                     may_have_arrived=not isinstance(exc, httpx2.ConnectTimeout | httpx2.PoolTimeout),
                                     hint="check that the server is running and reachable") from None
        except httpx2.TransportError as exc:
            raise ComfyUIUnreachable(f"ComfyUI at {self.base_url} is unreachable ({type(exc).__name__})",
                                     may_have_arrived=not isinstance(exc, httpx2.ConnectError),
                                     hint="check that the server is running and reachable") from None
        if refused_graph and response.status_code == 400:
            raise _refusal(response, self.base_url)
        if response.status_code >= 400:
            excerpt = response.text[:EXCERPT].strip()
            raise ComfyUIError(f"ComfyUI at {self.base_url} answered {method} {path} with HTTP "
                               f"{response.status_code}{': ' + excerpt if excerpt else ''}",
                               hint="check the server's log")
        return response


def _json_object(response: httpx2.Response, base_url: str, path: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ComfyUIError(f"ComfyUI at {base_url} answered {path} with something other than JSON",
                           hint="check that the URL is a ComfyUI server") from None
    if not isinstance(body, dict):
        raise ComfyUIError(f"ComfyUI at {base_url} answered {path} with a {type(body).__name__}, "
                           "not an object", hint="check that the URL is a ComfyUI server")
    return body


def _node_problem(entry: dict[str, str]) -> str:
    """``node 4 (CheckpointLoaderSimple) ckpt_name: Value not in list (ckpt_name: 'x.safetensors' not in [...])``:
    ComfyUI's details carry the value it refused, which the model needs to correct the call."""
    where = f"node {entry['node_id']} ({entry['class_type']}) {entry['input']}: {entry['message']}"
    return f"{where} ({entry['details']})" if entry["details"] else where


def _refusal(response: httpx2.Response, base_url: str) -> ComfyUINodeErrors:
    """A 400 from ``POST /prompt`` as one entry per node and input (``reference/comfyui-api.md`` §1.2)."""
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    error = answer.get("error") if isinstance(answer, dict) else None
    error = error if isinstance(error, dict) else {}
    entries: list[dict[str, str]] = []
    node_errors = answer.get("node_errors") if isinstance(answer, dict) else None
    for node_id, node in (node_errors or {}).items():
        if not isinstance(node, dict):
            continue
        for problem in node.get("errors") or []:
            if not isinstance(problem, dict):
                continue
            details = str(problem.get("details", ""))[:EXCERPT]
            entries.append({
                "node_id": str(node_id), "class_type": str(node.get("class_type", "")),
                "input": details.split(":", 1)[0].split(",", 1)[0].strip(), "type": str(problem.get("type", "")),
                "message": str(problem.get("message", ""))[:EXCERPT], "details": details,
            })
    summary = str(error.get("message") or "the graph was refused")[:EXCERPT]
    detail = str(error.get("details") or "")[:EXCERPT]
    listed = "; ".join(_node_problem(e) for e in entries[:10])
    message = f"ComfyUI at {base_url} refused the graph: {summary}" + (f" ({detail})" if detail else "")
    return ComfyUINodeErrors(message + (f" — {listed}" if listed else ""), entries,
                             hint="fix the named node inputs (models, samplers and schedulers must be ones the "
                                  "server lists: check_comfyui_server shows them)")
