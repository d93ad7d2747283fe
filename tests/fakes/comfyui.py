"""A fake ComfyUI: real HTTP on 127.0.0.1 with the endpoint shapes of ComfyUI v0.3.64 (reference/comfyui-api.md).

Served: ``/system_stats``, ``/object_info`` (and ``/object_info/{Class}``), ``/models/{folder}``, ``/prompt``
(GET and POST, with the real 400 shapes), ``/history`` (``{}`` until a prompt is done), ``/queue``, ``/interrupt``
and ``/view``; every route also under ``/api``. Nothing is timed: a submitted prompt stays pending until the test
calls ``run_next()`` or, with ``runs_after_polls`` set, until its history has been polled that many times. A test
can make the next prompt fail at a node (``fail_next``) or end without outputs (``no_outputs_next``), or make
prompts hang once started (``hang``: they stay in ``queue_running`` until ``run_next()`` or an interrupt). As in
ComfyUI, ``/interrupt`` stops only the running prompt (the one named, when a ``prompt_id`` is given); a pending one
is left alone and only ``/queue {"delete": [...]}`` removes it. Graph checks and node catalog live in
``comfyui_nodes``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.comfyui_nodes import SAVE_NODES, object_info, validate_graph
from tests.media_samples import MP4, png


@dataclass(frozen=True)
class Failure:
    """How a prompt fails while running: an ``execution_error`` at the first node of ``node_class``."""

    node_class: str = "KSampler"
    exception_type: str = "torch.OutOfMemoryError"
    exception_message: str = "CUDA out of memory. Tried to allocate 2.00 GiB"


@dataclass
class FakeComfyUI:
    """The fake's state; a test changes it directly (``checkpoints``, ``broken``) and reads ``requests``."""

    checkpoints: list[str] = field(default_factory=lambda: ["sd15/v1-5-pruned.safetensors", "sdxl_base.safetensors"])
    loras: list[str] = field(default_factory=lambda: ["detail_tweaker.safetensors"])
    device: dict[str, Any] = field(default_factory=lambda: {
        "name": "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync", "type": "cuda", "index": 0,
        "vram_total": 25_393_692_672, "vram_free": 24_000_000_000,
        "torch_vram_total": 0, "torch_vram_free": 0,
    })
    runs_after_polls: int | None = 1
    """Polls of ``/history/{id}`` answered ``{}`` before the prompt runs; None: only ``run_next()`` runs it."""
    extra_nodes: int = 0
    """Filler node classes added to ``/object_info`` (a real install has about 480 and answers ~0.5 MB)."""
    broken: int | None = None
    """An HTTP status every request answers with (a sick server), or None."""
    hang: bool = False
    """Prompts that start (after ``runs_after_polls``) stay running until ``run_next()`` or an interrupt."""
    fail_next: Failure | None = None
    """The next prompt to finish fails this way (then it is cleared)."""
    no_outputs_next: bool = False
    """The next prompt to finish succeeds with no outputs (then it is cleared)."""
    requests: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    """The ``Authorization`` header of each request, in order (None when absent)."""
    pending: list[list[Any]] = field(default_factory=list)
    running: list[Any] | None = None
    history: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    interrupted: list[str | None] = field(default_factory=list)
    counter: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- what the handlers call ------------------------------------------------------------------------------
    def system_stats(self) -> dict[str, Any]:
        return {
            "system": {
                "os": "posix", "ram_total": 25_276_514_304, "ram_free": 20_000_000_000, "comfyui_version": "0.3.64",
                "required_frontend_version": "1.27.10", "python_version": "3.12.3", "pytorch_version": "2.8.0+cu128",
                "embedded_python": False, "argv": ["main.py", "--listen", "--secret-token", "do-not-leak"],
            },
            "devices": [dict(self.device)],
        }

    def object_info(self) -> dict[str, Any]:
        nodes = object_info(self.checkpoints, self.loras)
        filler = nodes["KSampler"]
        nodes.update({f"CustomNode{i}": {**filler, "name": f"CustomNode{i}"} for i in range(self.extra_nodes)})
        return nodes

    def submit(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if "prompt" not in body:
            return 400, {"error": {"type": "no_prompt", "message": "No prompt provided", "details": "",
                                   "extra_info": {}}, "node_errors": {}}
        error, node_errors = validate_graph(body["prompt"], self.checkpoints, self.loras)
        if error is not None:
            return 400, {"error": error, "node_errors": node_errors}
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())
        with self.lock:
            self.counter += 1
            extra = {**body.get("extra_data", {}), "client_id": body.get("client_id")}
            outputs = [n for n, node in body["prompt"].items() if node["class_type"] in SAVE_NODES]
            self.pending.append([self.counter, prompt_id, body["prompt"], extra, outputs])
        return 200, {"prompt_id": prompt_id, "number": self.counter, "node_errors": {}}

    def start_next(self) -> str | None:
        """Move the oldest pending prompt to running, where it stays until ``run_next()`` or an interrupt; the
        running prompt's id (None when nothing is pending or running)."""
        with self.lock:
            if self.running is None and self.pending:
                self.running = self.pending.pop(0)
            return None if self.running is None else str(self.running[1])

    def run_next(self) -> str | None:
        """Finish the running prompt, else the oldest pending one: a success, or as ``fail_next`` or
        ``no_outputs_next`` say; its id, or None."""
        with self.lock:
            if self.running is None and not self.pending:
                return None
            item = self.running if self.running is not None else self.pending.pop(0)
            self.running = None
            if self.fail_next is not None:
                failure, self.fail_next = self.fail_next, None
                self._finish(item, {}, "execution_error", self._failure_data(item[2], failure))
            elif self.no_outputs_next:
                self.no_outputs_next = False
                self._finish(item, {}, "execution_success")
            else:
                self._finish(item, self._render(item[2]), "execution_success")
            return str(item[1])

    def interrupt(self, prompt_id: str | None) -> None:
        """``POST /interrupt``: stop the running prompt if it is ``prompt_id`` (any, when None); else nothing."""
        with self.lock:
            self.interrupted.append(prompt_id)
            item = self.running
            if item is not None and prompt_id in (None, item[1]):
                self.running = None
                node_id = next(iter(item[2]), "")
                self._finish(item, {}, "execution_interrupted", {
                    "node_id": node_id, "node_type": item[2].get(node_id, {}).get("class_type"), "executed": []})

    @staticmethod
    def _failure_data(graph: dict[str, Any], failure: Failure) -> dict[str, Any]:
        node_id = next((n for n, node in graph.items() if node["class_type"] == failure.node_class), next(iter(graph)))
        return {
            "node_id": node_id, "node_type": graph[node_id]["class_type"], "executed": [],
            "exception_message": failure.exception_message, "exception_type": failure.exception_type,
            "traceback": ['  File "/opt/ComfyUI/execution.py", line 496, in execute\n'],
            "current_inputs": {}, "current_outputs": {},
        }

    def _render(self, graph: dict[str, Any]) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for node_id, node in graph.items():
            kind = node["class_type"]
            if kind not in SAVE_NODES:
                continue
            prefix = str(node["inputs"].get("filename_prefix", "ComfyUI"))
            subfolder, _, stem = prefix.rpartition("/")
            video = kind in {"SaveVideo", "SaveWEBM"}
            name = f"{stem}_{len(self.files) + 1:05}_.{'mp4' if video else 'png'}"
            kind_folder = "temp" if kind == "PreviewImage" else "output"
            self.files[(kind_folder, subfolder, name)] = MP4 if video else png(2, 2)
            entry: dict[str, Any] = {"images": [{"filename": name, "subfolder": subfolder, "type": kind_folder}]}
            if video:
                entry["animated"] = [True]
            outputs[node_id] = entry
        return outputs

    def _finish(self, item: list[Any], outputs: dict[str, Any], last: str, data: dict[str, Any] | None = None) -> None:
        prompt_id = item[1]
        messages = [["execution_start", {"prompt_id": prompt_id, "timestamp": 1}],
                    ["execution_cached", {"nodes": [], "prompt_id": prompt_id, "timestamp": 1}],
                    [last, {"prompt_id": prompt_id, "timestamp": 2, **(data or {})}]]
        ok = last == "execution_success"
        self.history[prompt_id] = {
            "prompt": item, "outputs": outputs,
            "status": {"status_str": "success" if ok else "error", "completed": ok, "messages": messages},
            "meta": {n: {"node_id": n, "display_node": n, "parent_node": None, "real_node_id": n} for n in outputs},
        }

    def poll_history(self, prompt_id: str) -> dict[str, Any]:
        with self.lock:
            if prompt_id not in self.history and any(p[1] == prompt_id for p in self.pending):
                self.polls[prompt_id] = self.polls.get(prompt_id, 0) + 1
                if self.runs_after_polls is not None and self.polls[prompt_id] > self.runs_after_polls:
                    if self.hang:
                        self.start_next()
                        return {}
                    while prompt_id not in self.history and self.run_next() is not None:
                        pass
                    return {prompt_id: self.history[prompt_id]}
                return {}
            entry = self.history.get(prompt_id)
            return {} if entry is None else {prompt_id: entry}

    def queue(self) -> dict[str, Any]:
        with self.lock:
            return {"queue_running": [self.running] if self.running else [], "queue_pending": list(self.pending)}

    def change_queue(self, body: dict[str, Any]) -> None:
        with self.lock:
            if body.get("clear"):
                self.pending.clear()
            doomed = set(body.get("delete", []))
            self.pending[:] = [p for p in self.pending if p[1] not in doomed]

    def change_history(self, body: dict[str, Any]) -> None:
        with self.lock:
            if body.get("clear"):
                self.history.clear()
            for prompt_id in body.get("delete", []):
                self.history.pop(prompt_id, None)

    def view(self, query: dict[str, str]) -> tuple[int, bytes, str]:
        name = query.get("filename", "")
        subfolder = query.get("subfolder", "")
        if not name or name.startswith("/") or ".." in name:
            return 400, b"", "text/plain"
        if subfolder.startswith("/") or ".." in subfolder:
            return 403, b"", "text/plain"
        data = self.files.get((query.get("type", "output"), subfolder, name))
        if data is None:
            return 404, b"", "text/plain"
        return 200, data, "video/mp4" if name.endswith(".mp4") else "image/png"


def _handler(fake: FakeComfyUI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, status: int, body: Any = None, *, raw: bytes | None = None, ctype: str = "application/json") -> None:
            data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self) -> tuple[str, dict[str, str]]:
            parts = urlsplit(self.path)
            path = parts.path.removeprefix("/api") or "/"
            fake.requests.append(f"{self.command} {path}")
            fake.authorizations.append(self.headers.get("Authorization"))
            return path, {k: v[-1] for k, v in parse_qs(parts.query).items()}

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw) if raw.strip() else {}

        def do_GET(self) -> None:
            path, query = self._route()
            if fake.broken is not None:
                return self._send(fake.broken, {"error": "broken"})
            if path == "/system_stats":
                return self._send(200, fake.system_stats())
            if path == "/object_info":
                return self._send(200, fake.object_info())
            if path.startswith("/object_info/"):
                info = object_info(fake.checkpoints, fake.loras)
                name = path.split("/", 2)[2]
                return self._send(200, {name: info[name]} if name in info else {})
            if path in ("/models/checkpoints", "/models/loras"):
                return self._send(200, fake.checkpoints if path.endswith("checkpoints") else fake.loras)
            if path == "/prompt":
                return self._send(200, {"exec_info": {"queue_remaining": len(fake.pending)}})
            if path == "/history":
                return self._send(200, dict(fake.history))
            if path.startswith("/history/"):
                return self._send(200, fake.poll_history(path.split("/", 2)[2]))
            if path == "/queue":
                return self._send(200, fake.queue())
            if path == "/view":
                status, data, ctype = fake.view(query)
                return self._send(status, raw=data, ctype=ctype)
            return self._send(404, raw=b"404: Not Found", ctype="text/plain")

        def do_POST(self) -> None:
            path, _ = self._route()
            if fake.broken is not None:
                return self._send(fake.broken, {"error": "broken"})
            body = self._body()
            if path == "/prompt":
                status, answer = fake.submit(body)
                return self._send(status, answer)
            if path == "/queue":
                fake.change_queue(body)
            elif path == "/history":
                fake.change_history(body)
            elif path == "/interrupt":
                fake.interrupt(body.get("prompt_id"))
            else:
                return self._send(404, raw=b"404: Not Found", ctype="text/plain")
            return self._send(200)

    return Handler


@dataclass
class RunningFake:
    """A fake being served: its state and base URL; ``stop()`` takes it down (the port then refuses)."""

    state: FakeComfyUI
    url: str
    server: ThreadingHTTPServer

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def serve_fake_comfyui(state: FakeComfyUI | None = None) -> Iterator[RunningFake]:
    """Serve a fake ComfyUI on 127.0.0.1 (a free port) in a thread for the block."""
    fake = state or FakeComfyUI()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-comfyui", daemon=True)
    thread.start()
    running = RunningFake(fake, f"http://127.0.0.1:{server.server_address[1]}", server)
    try:
        yield running
    finally:
        if thread.is_alive():
            running.stop()
        thread.join(timeout=5)
