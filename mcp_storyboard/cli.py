"""The ``mcp-storyboard`` command: ``serve`` (default), ``worker``, ``init-db``, ``migrate``, ``doctor``, ``gc-media``,
``users`` and ``tokens`` (their actions live in ``cli_users.py``).

Every known failure (``StoryboardError``) prints one line to stderr and exits 2; no tracebacks.

Start-up order matters for ``serve``: this module imports little, so the embedded database server is spawned
first and boots in its own process while the SDK is imported and the tool schemas are built.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from mcp_storyboard.config import DRIVERS, Settings
from mcp_storyboard.errors import ConfigError, StoryboardError

if TYPE_CHECKING:
    from mcp_storyboard.cli_worker import WorkerOptions
    from mcp_storyboard.db.connection import Database
    from mcp_storyboard.db.embedded import EmbeddedServer
    from mcp_storyboard.db.indexes import IndexSpec
    from mcp_storyboard.db.migrations import MigrationResult
    from mcp_storyboard.services.container import Services

# The database, SDK and server modules are imported where they are used: importing them takes about a second,
# which ``serve`` spends while the embedded server boots, not before spawning it.

EXIT_CONFIG = 2


def _add_db_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mongodb-uri", help="MongoDB URI (env MONGODB_URI or MONGO_URL); memory:// for a throwaway database; "
                        "unset for the embedded database")
    parser.add_argument("--db-name", help="database name (env DB_NAME, default storyboard)")
    parser.add_argument("--driver", choices=DRIVERS, help="driver (env STORYBOARD_DRIVER, default pymongo)")
    parser.add_argument("--data-dir", type=Path, help="where the embedded database lives (env STORYBOARD_DATA_DIR)")


def _add_worker_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concurrency", type=int, default=1, help="jobs (batches) run at once per queue (default 1)")
    parser.add_argument("--lease-seconds", type=float, default=300.0,
                        help="job lease, renewed by heartbeats; a dead worker's job is re-run after it (default 300)")
    parser.add_argument("--queue", action="append", choices=("facefusion", "generation", "render"), dest="queues",
                        help="a queue to work on (repeatable; default: generation, facefusion when "
                        "FACEFUSION_PATH is set, render when PyAV is installed)")
    parser.add_argument("--check-seconds", type=float, default=60.0,
                        help="how often the active ComfyUI servers are re-checked (default 60)")


def _worker_options(args: argparse.Namespace) -> WorkerOptions:
    from mcp_storyboard.cli_worker import WorkerOptions

    return WorkerOptions(concurrency=args.concurrency, lease_seconds=args.lease_seconds, name=getattr(args, "name", None),
                         queues=tuple(dict.fromkeys(args.queues or ())), check_seconds=args.check_seconds)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcp-storyboard", description="An MCP server for AI storyboarding over MongoDB.")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the MCP server (the default command)")
    _add_db_flags(serve)
    serve.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="HTTP port")
    serve.add_argument("--no-auth", action="store_true",
                       help="HTTP without API tokens: loopback --host only (every caller is an admin)")
    serve.add_argument("--allowed-host", action="append", default=[], metavar="NAME[:PORT]",
                       help="a Host header HTTP accepts besides loopback names (repeatable; needed off loopback)")
    serve.add_argument("--public-url", default=None,
                       help="the URL clients reach HTTP at, without /mcp (default from --allowed-host or --host)")
    serve.add_argument("--toolsets", default=None, help="comma-separated toolsets, or 'all' (default: all but users)")
    serve.add_argument("--read-only", action="store_true", help="list and allow only read tools")
    serve.add_argument("--dynamic-toolsets", action="store_true", default=None,
                       help="start with the storyboard toolset; clients enable the others with enable_toolset "
                       "(env STORYBOARD_DYNAMIC_TOOLSETS=1)")
    serve.add_argument("--list-tools", action="store_true", help="print the effective tool catalog and exit")
    serve.add_argument("--worker", action="store_true", help="also run the queue workers in this process")
    _add_worker_flags(serve)

    worker = sub.add_parser("worker", help="run the generation and FaceFusion workers until SIGTERM/SIGINT "
                            "(one per GPU host against a shared MongoDB)")
    _add_db_flags(worker)
    _add_worker_flags(worker)
    worker.add_argument("--name", help="the worker's name in job leases (default host:pid)")

    init_db = sub.add_parser("init-db", help="apply pending data migrations, then create every collection index "
                             "(idempotent; the server does the same at start-up)")
    _add_db_flags(init_db)

    migrate = sub.add_parser("migrate", help="apply pending data migrations")
    _add_db_flags(migrate)
    migrate.add_argument("--dry-run", action="store_true", help="report what would change (each rename of a name that "
                         "collides ignoring case), change nothing")

    gc_media = sub.add_parser("gc-media", help="list media files whose project no longer exists (--apply deletes them)")
    _add_db_flags(gc_media)
    gc_media.add_argument("--apply", action="store_true", help="delete them (default: a dry run that only lists)")

    doctor = sub.add_parser("doctor", help="print backend, driver, server version, index and migration status")
    _add_db_flags(doctor)

    from mcp_storyboard.cli_users import add_commands  # users and tokens; it imports little

    add_commands(sub, _add_db_flags)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        mongodb_uri=getattr(args, "mongodb_uri", None),
        db_name=getattr(args, "db_name", None),
        driver=getattr(args, "driver", None),
        data_dir=getattr(args, "data_dir", None),
        dynamic_toolsets=getattr(args, "dynamic_toolsets", None),
    )


async def run_init_db(settings: Settings, out: TextIO) -> int:
    from mcp_storyboard.db.connection import connect
    from mcp_storyboard.db.indexes import ALL_INDEXES, missing_indexes
    from mcp_storyboard.db.setup import prepare_database

    async with connect(settings) as database:
        missing = await missing_indexes(database)
        _write_migrations(out, await prepare_database(database, report=_lines(out)))
        for spec in missing:
            unique = " unique" if spec.unique else ""
            out.write(f"created {spec.collection}.{spec.name}{unique}\n")
        out.write(f"{len(missing)} index(es) created, {len(ALL_INDEXES) - len(missing)} already present\n")
    return 0


async def run_migrate(settings: Settings, out: TextIO, *, dry_run: bool) -> int:
    from mcp_storyboard.db.connection import connect
    from mcp_storyboard.db.migrations import apply_migrations

    async with connect(settings) as database:
        results = await apply_migrations(database, dry_run=dry_run, report=_lines(out))
        _write_migrations(out, results)
        if not results:
            out.write("no pending migrations\n")
    return 0


async def run_gc_media(settings: Settings, out: TextIO, *, apply: bool) -> int:
    """List (and with ``apply`` delete) the media files of projects that no longer exist."""
    from mcp_storyboard.db.connection import connect
    from mcp_storyboard.services.container import Services

    async with connect(settings) as database:
        media = Services.over(database).media
        orphans = await media.orphans()
        for item in orphans:
            out.write(f"orphan {item.id} {item.size} bytes {item.mime_type} {item.filename!r} (project {item.project_id})\n")
        total = sum(item.size for item in orphans)
        if apply:
            deleted = await media.delete_orphans(orphans)
            out.write(f"deleted {deleted} orphaned file(s) of {len(orphans)} found, {total} bytes\n")
        elif orphans:
            out.write(f"{len(orphans)} orphaned file(s), {total} bytes; run gc-media --apply to delete them\n")
        else:
            out.write("no orphaned media files\n")
    return 0


def _lines(out: TextIO) -> Callable[[str], None]:
    return lambda line: print(line, file=out)


def _write_migrations(out: TextIO, results: Sequence[MigrationResult]) -> None:
    for result in results:
        verb = "would change" if result.dry_run else "changed"
        out.write(f"{result.version:04d} {result.name}: {verb} {result.changed} document(s)\n")


async def doctor_report(database: Database, settings: Settings) -> list[tuple[str, str]]:
    """The doctor's findings as (label, value) rows."""
    from mcp_storyboard.db.indexes import ALL_INDEXES, missing_indexes
    from mcp_storyboard.db.migrations import pending_migrations
    from mcp_storyboard.integrations.facefusion.build import facefusion_status

    missing = await missing_indexes(database)
    pending = await pending_migrations(database)
    caps = database.capabilities
    rows = [
        ("backend", database.backend),
        ("driver", database.driver),
        ("database", f"{settings.db_name} at {database.uri_for_display}"),
        ("server version", await database.server_version()),
        ("capabilities", ", ".join(k for k, v in vars(caps).items() if v) or "none"),
        ("indexes", f"{len(ALL_INDEXES) - len(missing)}/{len(ALL_INDEXES)} present" + _missing_text(missing)),
        ("migrations", "up to date" if not pending else "pending: " + ", ".join(f"{m.version:04d} {m.name}" for m in pending)
         + " (run migrate)"),
    ]
    if database.backend == "embedded":
        rows.insert(3, ("data dir", str(settings.data_dir)))
    rows.append(("facefusion", facefusion_status(settings)))
    if database.backend != "memory" and not caps.transactions:
        rows.append(("recommendation", "a replica set is recommended: this server is standalone, so it has no "
                     "transactions; parallel changes then fall back to re-checks and clean-ups that are weaker"))
    return rows


def _missing_text(missing: Sequence[IndexSpec]) -> str:
    if not missing:
        return ""
    names = ", ".join(f"{m.collection}.{m.name}" for m in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    return f"; missing {names}{more} (run init-db)"


async def run_doctor(settings: Settings, out: TextIO) -> int:
    from mcp_storyboard.db.connection import connect

    async with connect(settings) as database:
        for label, value in await doctor_report(database, settings):
            out.write(f"{label + ':':<16}{value}\n")
    return 0


def _run(coro_factory: Callable[[], Awaitable[int]]) -> int:
    import anyio

    return anyio.run(coro_factory)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv.insert(0, "serve")
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
        if args.command == "init-db":
            return _run(lambda: run_init_db(settings, sys.stdout))
        if args.command == "migrate":
            return _run(lambda: run_migrate(settings, sys.stdout, dry_run=args.dry_run))
        if args.command == "gc-media":
            return _run(lambda: run_gc_media(settings, sys.stdout, apply=args.apply))
        if args.command == "doctor":
            return _run(lambda: run_doctor(settings, sys.stdout))
        if args.command in ("users", "tokens"):
            from mcp_storyboard.cli_users import run_command

            return _run(lambda: run_command(args, settings))
        if args.command == "worker":
            from mcp_storyboard.cli_worker import run_worker

            return _run(lambda: run_worker(settings, _worker_options(args)))
        return _serve(settings, args)
    except StoryboardError as exc:
        print(f"mcp-storyboard: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except BaseExceptionGroup as group:  # raised inside a task group, e.g. the server's lifespan (serve --worker)
        known = _first_known_error(group)
        if known is None:
            raise
        print(f"mcp-storyboard: {known}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


def _first_known_error(group: BaseExceptionGroup[BaseException]) -> StoryboardError | None:
    for exc in group.exceptions:
        found = _first_known_error(exc) if isinstance(exc, BaseExceptionGroup) else exc
        if isinstance(found, StoryboardError):
            return found
    return None


def _exit_on_sigterm() -> None:
    # SIGTERM's default action skips atexit, which would leave the embedded server running until the next
    # start reuses it; as SystemExit it unwinds normally and releases the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    _exit_on_sigterm()
    embedded = None if args.list_tools else _start_embedded(settings)
    try:
        with _collector_paused():  # the SDK and the server: ~0.9 s while the database boots
            from mcp_storyboard.server import app

        toolsets = app.parse_toolsets(args.toolsets)
        if args.list_tools:
            sys.stdout.write(app.list_tools_text(toolsets=toolsets, read_only=args.read_only))
            return 0
        if args.worker and args.read_only:
            raise ConfigError("--worker cannot run with --read-only: a worker writes job results",
                              hint="run the worker in its own process (mcp-storyboard worker)")
        factory = _services_factory(settings, embedded, read_only=args.read_only)
        if args.worker:
            from mcp_storyboard.cli_worker import with_worker

            from mcp_storyboard.server.job_events import (
                announce_batch_in_process,
                announce_in_process,
                announce_render_in_process,
            )

            factory = with_worker(factory, settings, _worker_options(args), on_change=announce_in_process,
                                  on_batch_change=announce_batch_in_process, on_render_change=announce_render_in_process)
        app.serve(settings, transport=args.transport, host=args.host, port=args.port, toolsets=toolsets,
                  read_only=args.read_only, services_factory=factory, no_auth=args.no_auth,
                  allowed_hosts=args.allowed_host, public_url=args.public_url, open_at_start=args.worker)
    finally:
        if embedded is not None:
            embedded.stop()  # released already when the server ran; not if it failed or never opened its services
    return 0


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the garbage collector for the block (an import of much of the program), then freeze what it made.

    Importing the SDK and the server allocates a few hundred thousand objects that live as long as the process;
    the collector, triggered by the allocations alone, scans them again and again and finds nearly no garbage
    (about 0.1 s of CPU on the start path: ``tests/benchmarks/bench_startup.py``, 0.90-0.96x). Frozen, they are
    also left out of every later full collection. The block runs no other task (an import is synchronous).
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _start_embedded(settings: Settings) -> EmbeddedServer | None:
    """The embedded server for ``serve``, already booting in the background (None for other backends)."""
    if settings.backend != "embedded":
        return None
    from mcp_storyboard.db.embedded import EmbeddedServer

    # On exit the server is signalled, not waited for: a host waits for our exit, and the next start copes.
    embedded = EmbeddedServer(settings.data_dir, stop_waits=False)
    embedded.start_in_background()
    return embedded


def _services_factory(
    settings: Settings, embedded: EmbeddedServer | None, *, read_only: bool = False
) -> Callable[[], AbstractAsyncContextManager[Services]]:
    def factory() -> AbstractAsyncContextManager[Services]:
        with _collector_paused():  # the services, repositories and driver: imported when the database opens
            from mcp_storyboard.services.container import open_services

        return open_services(settings, embedded=embedded, read_only=read_only)

    return factory


def run() -> NoReturn:
    """The ``mcp-storyboard`` program: :func:`main`, then exit without tearing the interpreter down.

    Everything that needs closing is closed when ``main`` returns (the embedded server released, the streams
    flushed below); the teardown would only free ~100k objects one by one, which made a host wait about 1 s
    for the process to exit after closing its stdin.
    """
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
