"""Issue-7 speed figures, before and after, from one run: the same measurements run once over the code of a base
commit (exported to a temporary directory with ``git archive``, never committed) and once over this checkout, both
against one embedded SecantusDB holding the same seeded data. Prints figures and ratios; asserts nothing.

- Tool call overhead: ``get_clip`` as a direct service call, through ``mcp.Client`` (2026 era; the client checks the
  result against the output schema with jsonschema) and through a raw JSON-RPC client over the server's in-process
  streams that checks nothing (requests and answers still go through JSON, as on a wire).
- Trees at 10k clips: the full tree (no limit), ``include_clips=false``, and the tool's call (a byte limit), which
  a tree this size cannot meet: the refusal.
- Lists: a page deep into ``list_projects`` and ``list_clips``, and the plan the server picks for each list's query.

    .venv/bin/python tests/benchmarks/bench_speed.py [--base e904024] [--rounds 200] [--clips 10000] [--calls-only]

``--calls-only``: the tool call overhead alone (no trees, no lists), over a small seeded project; quicker.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[2]
DB_NAME = "bench_speed"


# -- the measurements (run in a child process over one version of the code) ------------------------------------
async def open_database(uri: str, listeners: list[Any]) -> Any:
    """A ``Database`` over the embedded server at ``uri`` (built as bench_server.py does: the same in both versions)."""
    from gridfs import AsyncGridFSBucket
    from pymongo import AsyncMongoClient

    from mcp_storyboard.db.connection import Capabilities, Database
    from mcp_storyboard.db.media import GridFSMediaStore

    client: AsyncMongoClient[Any] = AsyncMongoClient(uri, tz_aware=True, event_listeners=listeners)
    db = client[DB_NAME]
    return Database(client=client, db=db, backend="embedded", driver="pymongo",
                    capabilities=Capabilities.for_backend("embedded", replica_set=True),
                    media=GridFSMediaStore(db, AsyncGridFSBucket(db, bucket_name="media"), 1 << 20),
                    uri_for_display="embedded", _closers=[client.close])  # fmt: skip


async def median_ms(call: Callable[[], Awaitable[object]], rounds: int) -> float:
    for _ in range(min(5, rounds)):
        await call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


class RawClient:
    """JSON-RPC straight onto the server's in-process streams: no schema checks, no client session logic."""

    def __init__(self, read: Any, write: Any) -> None:
        from mcp_types.version import LATEST_MODERN_VERSION

        self.read, self.write, self.next_id = read, write, 0
        self.meta = {"io.modelcontextprotocol/protocolVersion": LATEST_MODERN_VERSION,
                     "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
                     "io.modelcontextprotocol/clientCapabilities": {}}  # fmt: skip

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        from mcp.shared.message import SessionMessage
        from mcp.types import JSONRPCRequest

        self.next_id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call",
                           "params": {"name": name, "arguments": arguments, "_meta": self.meta}})  # fmt: skip
        await self.write.send(SessionMessage(JSONRPCRequest.model_validate_json(body)))
        answer = await self.read.receive()
        wire = answer.message.model_dump_json(by_alias=True, exclude_none=True)  # what a stdio server writes
        reply: dict[str, Any] = json.loads(wire)
        return reply


async def explain(database: Any, command: dict[str, Any]) -> str:
    """The winning plan's stages, outermost first, with the index used: ``SORT < FETCH < IXSCAN(keys)``."""
    plan = (await database.db.command("explain", command, verbosity="queryPlanner"))["queryPlanner"]["winningPlan"]
    plan = plan.get("queryPlan", plan)
    stages = []
    while plan:
        stage = plan.get("stage", "?")
        if "keyPattern" in plan:
            stage += "(" + ",".join(f"{k}:{v}" for k, v in plan["keyPattern"].items()) + ")"
        stages.append(stage)
        plan = plan.get("inputStage") or (plan.get("inputStages") or [None])[0]
    return " < ".join(stages)


async def own_work(services: Any, clip_id: str) -> Callable[[], Awaitable[object]]:
    """``get_clip`` through what this project adds around the handler — the tool-call middleware, the SDK tool with
    its argument validation, the guard and the result conversion — over a handler that answers at once with a
    clip read beforehand (no database, no transport, no SDK dispatch)."""
    import dataclasses
    import functools
    from types import SimpleNamespace

    from mcp_storyboard.server.build import make_tool
    from mcp_storyboard.server.middleware import tool_call_guard
    from mcp_storyboard.server.registry import discover

    clip = await services.clips.get(clip_id)
    spec = next(s for s in discover().tools if s.name == "get_clip")

    @functools.wraps(spec.handler)
    async def answer(**_: Any) -> Any:
        return clip

    tool = make_tool(dataclasses.replace(spec, handler=answer))
    middleware = tool_call_guard({tool.name: tool})
    params = {"name": "get_clip", "arguments": {"clip_id": clip_id}}
    ctx = SimpleNamespace(method="tools/call", params=params)

    async def call_next(_: Any) -> Any:
        result = await tool.run(params["arguments"], None, convert_result=True)  # type: ignore[arg-type]
        return result.model_dump(mode="json", by_alias=True, exclude_none=True)  # the runner hands middleware a dict

    return lambda: middleware(ctx, call_next)  # type: ignore[arg-type]


def bare_sdk_server(services: Any) -> Any:
    """The SDK's floor for the same call: a plain ``MCPServer`` whose one tool returns ``services.clips.get`` (no
    middleware, guard, catalog or result handling of ours; the SDK validates the arguments and serialises the
    model)."""
    from mcp.server.mcpserver import Context, MCPServer

    from mcp_storyboard.models.clips import Clip

    bare: MCPServer[Any] = MCPServer("bare")

    async def get_clip(clip_id: str, ctx: Context) -> Clip:  # type: ignore[type-arg]
        return await services.clips.get(clip_id)  # type: ignore[no-any-return]

    get_clip.__annotations__ = {"clip_id": str, "ctx": Context, "return": Clip}  # objects: they are local imports
    bare.add_tool(get_clip, structured_output=True)
    return bare


async def measure(uri: str, ids: dict[str, Any], rounds: int, calls_only: bool = False) -> dict[str, Any]:
    from contextlib import asynccontextmanager

    from mcp import Client
    from mcp.client._memory import InMemoryTransport
    from pymongo import monitoring

    from mcp_storyboard.db.indexes import ensure_indexes
    from mcp_storyboard.errors import StoryboardError
    from mcp_storyboard.server.build import build_server
    from mcp_storyboard.server.errors import RESULT_LIMIT_BYTES
    from mcp_storyboard.server.taxonomy import TOOLSETS
    from mcp_storyboard.services.container import Services
    from mcp_storyboard.services.projects.tree import TreeOptions

    class Finds(monitoring.CommandListener):
        def __init__(self) -> None:
            self.commands: list[dict[str, Any]] = []

        def started(self, event: monitoring.CommandStartedEvent) -> None:
            if event.command_name in ("find", "aggregate", "count"):
                self.commands.append(dict(event.command))

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
            pass

        def failed(self, event: monitoring.CommandFailedEvent) -> None:
            pass

    listener = Finds()
    database = await open_database(uri, [listener])
    await ensure_indexes(database)
    services = Services.over(database)
    out: dict[str, Any] = {}

    @asynccontextmanager
    async def factory() -> Any:
        yield services

    server = build_server(factory, toolsets=TOOLSETS)  # type: ignore[arg-type]
    clip_id, project_id = ids["clip_id"], ids["project_id"]
    # Paired: each round times the ways one after the other, so the machine's load weighs on them alike.
    async with Client(server) as client, InMemoryTransport(server) as (read, write), \
            InMemoryTransport(bare_sdk_server(services)) as (bare_read, bare_write):
        raw, bare = RawClient(read, write), RawClient(bare_read, bare_write)
        assert "structuredContent" in (await raw.call_tool("get_clip", {"clip_id": clip_id}))["result"]
        assert "structuredContent" in (await bare.call_tool("get_clip", {"clip_id": clip_id}))["result"]
        ways: dict[str, Callable[[], Awaitable[object]]] = {
            "get_clip direct": lambda: services.clips.get(clip_id),
            "get_clip mcp.Client": lambda: client.call_tool("get_clip", {"clip_id": clip_id}),
            "get_clip raw JSON-RPC": lambda: raw.call_tool("get_clip", {"clip_id": clip_id}),
            "get_clip raw, bare SDK server": lambda: bare.call_tool("get_clip", {"clip_id": clip_id}),
        }
        samples: dict[str, list[float]] = {name: [] for name in ways}
        for round_ in range(rounds + 10):
            for name, call in ways.items():
                start = time.perf_counter()
                await call()
                if round_ >= 10:  # warm-up rounds are not counted
                    samples[name].append(time.perf_counter() - start)
        for name, taken in samples.items():
            out[name] = statistics.median(taken) * 1000
        for name in ("get_clip mcp.Client", "get_clip raw JSON-RPC", "get_clip raw, bare SDK server"):
            out[name + " / direct"] = statistics.median(
                t / d for t, d in zip(samples[name], samples["get_clip direct"], strict=True)
            )
    out["get_clip server's own work"] = await median_ms(await own_work(services, clip_id), rounds * 5)
    if calls_only:
        await database.close()
        return out

    tree_rounds = max(3, rounds // 40)

    async def refused() -> None:
        try:
            await services.projects.tree(project_id, TreeOptions(), max_bytes=RESULT_LIMIT_BYTES - 1024)
        except StoryboardError:
            return
        raise AssertionError("the tree was expected to be too large")

    for label, call in (
        ("tree full (no limit)", lambda: services.projects.tree(project_id)),
        ("tree include_clips=false", lambda: services.projects.tree(project_id, TreeOptions(include_clips=False))),
        ("tree refused (tool's limit)", refused),
    ):
        out[label] = await median_ms(call, tree_rounds)
        listener.commands.clear()
        await call()
        out[label + " queries"] = len(listener.commands)

    # Lists: a page deep into each (every page costs the same with keyset pagination when an index serves the sort).
    async def deep_page(first: Callable[[str | None], Awaitable[Any]], pages: int) -> Callable[[], Awaitable[Any]]:
        cursor = None
        for _ in range(pages):
            cursor = (await first(cursor)).next_cursor
        return lambda: first(cursor)

    lists = {
        "list_projects": lambda c: services.projects.list_page(limit=50, cursor=c),
        "list_clips": lambda c: services.repositories.clips.page_for_scene(ids["scene_id"], limit=50, cursor=c),
        "list_scenes": lambda c: services.repositories.scenes.page_for_project(project_id, limit=10, cursor=c),
    }
    for name, first in lists.items():
        call = await deep_page(first, 3)
        out[f"{name} page 4"] = await median_ms(call, max(5, rounds // 10))
        listener.commands.clear()
        await call()
        plans = []
        for find in (c for c in listener.commands if c.get("find")):
            command = {k: find[k] for k in ("find", "filter", "sort", "limit", "projection") if k in find}
            plans.append(await explain(database, command))
        out[f"{name} plan"] = "  +  ".join(plans)
    await database.close()
    return out


# -- the driver: seed once, run the measurements over both versions, print the comparison -----------------------
async def seed(uri: str, clips: int, projects: int) -> dict[str, Any]:
    from mcp_storyboard.db.migrations import apply_migrations
    from mcp_storyboard.models.clips import Clip
    from mcp_storyboard.models.projects import Project
    from mcp_storyboard.models.scenes import Scene

    database = await open_database(uri, [])
    await database.client.drop_database(DB_NAME)
    db = database.db
    await db.projects.insert_many([Project(name=f"p{i}").model_dump() for i in range(projects)])
    project = Project(name=f"bench {clips} clips")
    await db.projects.insert_one(project.model_dump())
    scenes = [Scene(project_id=project.id, name=f"Scene {i}", order=i) for i in range(max(50, clips // 200))]
    await db.scenes.insert_many([s.model_dump() for s in scenes])
    per_scene = clips // len(scenes)
    docs = [Clip(scene_id=s.id, project_id=project.id, order=j, timeline_position=j * 5.0, name=f"clip {j}",
                 image_prompt="a neon street at night, rain").model_dump()
            for s in scenes for j in range(per_scene)]  # fmt: skip
    for start in range(0, len(docs), 5000):
        await db.clips.insert_many(docs[start : start + 5000])
    first = await db.clips.find_one({"scene_id": scenes[0].id})
    # As the server's start-up would (migration 0004 stores each scene's clip numbers); the base ignores them.
    await apply_migrations(database)
    await database.close()
    return {"project_id": project.id, "scene_id": scenes[0].id, "clip_id": first["id"]}


def run_child(code_dir: Path, uri: str, ids: dict[str, Any], rounds: int, calls_only: bool) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code_dir)}
    args = [sys.executable, __file__, "--child", uri, json.dumps(ids), str(rounds), "calls" if calls_only else "all"]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"the measurement over {code_dir} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(before: dict[str, Any], after: dict[str, Any], base: str, clips: int) -> None:
    print(f"Before = {base}, after = this checkout; embedded SecantusDB + PyMongo async; medians in ms "
          "(the best of alternated runs)")
    print(f"{'':40}{'before':>10}{'after':>10}{'after/before':>14}")
    for key in before:
        if key.endswith("plan"):
            continue
        b, a = before[key], after.get(key)
        ratio = f"{a / b:14.2f}" if isinstance(a, (int, float)) and b else ""
        fmt = "{:10.0f}" if key.endswith("queries") else "{:10.2f}"
        print(f"  {key:38}{fmt.format(b)}{fmt.format(a) if a is not None else '':>10}{ratio}")
    print("Ratios the issue asks for")
    for label, data in (("before", before), ("after", after)):
        print(f"  {label:6} get_clip MCP/direct (median of paired rounds): mcp.Client "
              f"{data['get_clip mcp.Client / direct']:5.2f}, raw JSON-RPC {data['get_clip raw JSON-RPC / direct']:5.2f}"
              f" (a bare SDK server, raw: {data['get_clip raw, bare SDK server / direct']:5.2f})")
    if "tree full (no limit)" not in before:
        return
    full = before["tree full (no limit)"]
    print(f"  at {clips} clips, against the full tree before ({full:.0f} ms): "
          f"include_clips=false {after['tree include_clips=false'] / full:.3f}x (goal <= 0.3), "
          f"refusal {after['tree refused (tool' + chr(39) + 's limit)'] / full:.3f}x (goal <= 0.1)")  # fmt: skip
    print("Query plans (SecantusDB 0.7.0b3 puts a SORT stage over a matching index and stops no scan early at the"
          " limit; MongoDB walks the index in order)")
    for key in before:
        if key.endswith("plan"):
            print(f"  {key[:-5]:14} before: {before[key]}\n  {'':14} after:  {after[key]}")


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per figure, the lowest of ``runs`` (plans and query counts are the same in every run)."""
    return {key: min(r[key] for r in runs) if isinstance(runs[0][key], float) else runs[0][key] for key in runs[0]}


async def main(base: str, rounds: int, clips: int, projects: int, repeat: int, calls_only: bool) -> None:
    from mcp_storyboard.db.embedded import EmbeddedServer

    with tempfile.TemporaryDirectory() as tmp:
        before_dir = Path(tmp) / "before"
        before_dir.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", base, "mcp_storyboard", "prompts"], capture_output=True,
                                 check=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(before_dir)], input=archive, check=True)
        server = EmbeddedServer(Path(tmp) / "db")
        uri = await anyio.to_thread.run_sync(server.start)
        try:
            ids = await seed(uri, clips, projects)
            # Alternated, each figure the best of its runs: the machine's load then weighs on both sides alike.
            runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
            for _ in range(repeat):
                runs["before"].append(await anyio.to_thread.run_sync(run_child, before_dir, uri, ids, rounds, calls_only))
                runs["after"].append(await anyio.to_thread.run_sync(run_child, ROOT, uri, ids, rounds, calls_only))
            before, after = (best(runs[side]) for side in ("before", "after"))
        finally:
            await anyio.to_thread.run_sync(server.stop)
    report(before, after, base, clips)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        figures = anyio.run(measure, sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "calls")
        print(json.dumps(figures))
        raise SystemExit(0)
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="e904024", help="the commit measured as 'before'")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--clips", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side, alternated; the best counts")
    parser.add_argument("--calls-only", action="store_true", help="only the tool call overhead (a small project)")
    args = parser.parse_args()
    if args.calls_only:
        args.clips, args.projects = min(args.clips, 1000), min(args.projects, 50)
    anyio.run(main, args.base, args.rounds, args.clips, args.projects, args.repeat, args.calls_only)
