"""A fake CivitAI REST API behind an ``httpx2.MockTransport``: ``GET /models`` with opaque cursors (and the real
rules: ``page`` with ``query`` → 400, page*limit > 1000 → 429), ``GET /models/{id}`` (404 ``{"error": ...}`` when
unknown), and scripted failures (429s and 5xxs) to prove the backoff. It records every request it saw."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import httpx2

from mcp_storyboard.integrations.civitai import CivitAIClient

BASE_URL = "https://civitai.test/api/v1"


def version(version_id: int, base_model: str = "SDXL 1.0", *, words: tuple[str, ...] = (), file: str | None = None,
            **extra: Any) -> dict[str, Any]:  # fmt: skip
    """A ``modelVersions[]`` entry with one primary file (``file=""``: an archived version without files)."""
    name = f"model_{version_id}.safetensors" if file is None else file
    files = [] if not name else [{"id": version_id * 10, "name": name, "type": "Model", "primary": True,
                                   "sizeKB": 2048.5, "hashes": {"SHA256": "AB" * 32}}]  # fmt: skip
    return {"id": version_id, "name": f"v{version_id}", "baseModel": base_model, "trainedWords": list(words),
            "files": files, "images": [], "downloadUrl": f"https://civitai.com/api/download/models/{version_id}",
            **extra}  # fmt: skip


def model(model_id: int, name: str, kind: str = "Checkpoint", *, nsfw: bool = False, tags: tuple[str, ...] = (),
          versions: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    """A ``/models`` item in CivitAI's shape."""
    return {"id": model_id, "name": name, "type": kind, "nsfw": nsfw, "nsfwLevel": 1, "description": f"<p>{name}</p>",
            "tags": list(tags), "stats": {"downloadCount": model_id * 100, "thumbsUpCount": 3},
            "creator": {"username": "maker", "image": None}, "allowCommercialUse": ["Image"],
            "modelVersions": versions if versions is not None else [version(model_id * 1000)]}  # fmt: skip


@dataclass
class FakeCivitAI:
    """The models it serves, scripted failures, and what it was asked."""

    models: list[dict[str, Any]] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    """Statuses to answer, in order, before serving normally (e.g. [429, 503])."""
    requests: list[httpx2.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def client(self, *, api_key: str | None = None, retries: int = 5) -> CivitAIClient:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        return CivitAIClient(base_url=BASE_URL, api_key=api_key, transport=httpx2.MockTransport(self.handle),
                             sleep=sleep, retries=retries)  # fmt: skip

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self.failures:
            status = self.failures.pop(0)
            return httpx2.Response(status, json={"error": "Too Many Requests" if status == 429 else "Server error"})
        path = request.url.path.removeprefix("/api/v1")
        if path == "/models":
            return self._list(request.url.params)
        if path.startswith("/models/") and path.removeprefix("/models/").isdigit():
            wanted = int(path.removeprefix("/models/"))
            found = next((m for m in self.models if m["id"] == wanted), None)
            if found is None:
                return httpx2.Response(404, json={"error": f"No model with id {wanted}"})
            return httpx2.Response(200, json=found)
        return httpx2.Response(404, json={"error": "Not found"})

    def _list(self, params: httpx2.QueryParams) -> httpx2.Response:
        limit = int(params.get("limit", "100"))
        if not 1 <= limit <= 100:
            return httpx2.Response(400, json={"error": "limit must be 1-100"})
        if "page" in params and "query" in params:
            return httpx2.Response(400, json={"error": "Cannot use page param with query search. Use cursor-based pagination."})
        if int(params.get("page", "1")) * limit > 1000:
            return httpx2.Response(429, json={"error": "You've requested too many pages, please use cursors instead"})
        chosen = [m for m in self.models if _matches(m, params)]
        start = _decode(params["cursor"]) if "cursor" in params else 0
        page = chosen[start : start + limit]
        more = start + limit < len(chosen)
        metadata = {"nextCursor": _encode(start + limit), "nextPage": "https://civitai.test/next"} if more else {}
        return httpx2.Response(200, json={"items": page, "metadata": metadata})


def _matches(item: dict[str, Any], params: httpx2.QueryParams) -> bool:
    if params.get("nsfw", "false") != "true" and item["nsfw"]:
        return False
    types = params.get_list("types")
    if types and item["type"] not in types:
        return False
    query = params.get("query")
    return not query or query.lower() in item["name"].lower()


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _decode(cursor: str) -> int:
    return int(json.loads(base64.urlsafe_b64decode(cursor))["o"])
