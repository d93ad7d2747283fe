"""The command line: one-line errors with exit code 2, and init-db / migrate / doctor on real backends."""

from __future__ import annotations

import dataclasses
import gc
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mcp_storyboard import cli
from mcp_storyboard.cli import doctor_report
from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import Database, connect
from mcp_storyboard.db.indexes import ALL_INDEXES
from mcp_storyboard.models.projects import Project
from mcp_storyboard.repositories.projects import ProjectRepository


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "MONGO_URL", "DB_NAME", "STORYBOARD_DRIVER")}
    return subprocess.run([sys.executable, "-m", "mcp_storyboard", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ({"MONGODB_URI": "redis://localhost"}, ["doctor"], "MONGODB_URI must start with mongodb://"),
        ({"STORYBOARD_DRIVER": "odbc"}, ["init-db"], "STORYBOARD_DRIVER 'odbc' is not a driver"),
        ({"DB_NAME": "a.b"}, ["migrate"], "DB_NAME 'a.b' is not a valid database name"),
        ({"MONGODB_URI": "mongodb://user:s3cret@127.0.0.1:1/?serverSelectionTimeoutMS=300"}, ["doctor"],
         "cannot reach the database at mongodb://***@127.0.0.1:1/"),
    ],
)
def test_bad_configuration_prints_one_line_and_exits_2(env: dict[str, str], args: list[str], expected: str) -> None:
    proc = run_cli(*args, env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and "s3cret" not in proc.stderr + proc.stdout


def test_init_db_migrate_and_doctor_report_on_memory() -> None:
    proc = run_cli("doctor", "--mongodb-uri", "memory://")
    assert proc.returncode == 0, proc.stderr
    assert "backend:        memory" in proc.stdout
    assert "missing" in proc.stdout and "run init-db" in proc.stdout and "pending: 0001" in proc.stdout


@pytest.mark.slow
def test_init_db_then_doctor_on_the_embedded_database(tmp_path: Path) -> None:
    env = {"STORYBOARD_DATA_DIR": str(tmp_path)}
    first = run_cli("init-db", env=env)
    assert first.returncode == 0, first.stderr
    assert "0001 characters_facefusion_fields: changed 0 document(s)" in first.stdout  # migrations come first
    assert f"{len(ALL_INDEXES)} index(es) created, 0 already present" in first.stdout
    assert "created projects.id_1 unique" in first.stdout
    assert "created characters.project_id_1_name_key_1 unique" in first.stdout
    assert "0 index(es) created" in run_cli("init-db", env=env).stdout
    assert "no pending migrations" in run_cli("migrate", "--dry-run", env=env).stdout
    assert "no pending migrations" in run_cli("migrate", env=env).stdout
    doctor = run_cli("doctor", "--driver", "motor", env=env)
    assert doctor.returncode == 0, doctor.stderr
    indexes = f"{len(ALL_INDEXES)}/{len(ALL_INDEXES)} present"
    for expected in ("backend:        embedded", "driver:         motor", "SecantusDB 0.7.0b3", indexes, "up to date",
                     f"data dir:       {tmp_path}"):
        assert expected in doctor.stdout


@pytest.mark.slow
async def test_migrate_dry_run_lists_the_renames_of_colliding_names_then_migrate_applies_them(tmp_path: Path) -> None:
    env = {"STORYBOARD_DATA_DIR": str(tmp_path)}
    async with connect(Settings(data_dir=tmp_path)) as database:  # a database of the version before name keys
        await database.collection("characters").insert_many([
            {"id": "c1", "project_id": "p", "name": "Straße", "created_at": datetime(2025, 1, 1, tzinfo=UTC)},
            {"id": "c2", "project_id": "p", "name": "STRASSE", "created_at": datetime(2025, 1, 2, tzinfo=UTC)},
        ])  # fmt: skip
    rename = "characters in project p: {} 'STRASSE' (c2) to 'STRASSE (2)'; 'Straße' (c1) is older and keeps its name"
    dry = run_cli("migrate", "--dry-run", env=env)
    assert rename.format("would rename") in dry.stdout and "0003 unique_name_keys: would change 2 document(s)" in dry.stdout
    assert "pending: 0001" in run_cli("doctor", env=env).stdout  # the dry run changed nothing
    migrated = run_cli("migrate", env=env)
    assert rename.format("renamed") in migrated.stdout and "0003 unique_name_keys: changed 2" in migrated.stdout
    assert f"{len(ALL_INDEXES) - 2} index(es) created, 2 already present" in run_cli("init-db", env=env).stdout  # it built the 2 unique ones


@pytest.mark.slow
async def test_data_written_through_connect_survives_an_embedded_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, db_name="persist")
    async with connect(settings) as database:
        assert database.backend == "embedded"
        project = await ProjectRepository(database).insert(Project(name="Kept"))
    async with connect(settings.with_(driver="motor")) as database:
        assert (await ProjectRepository(database).get(project.id)).name == "Kept"
    state = tmp_path / "embedded" / "server.json"
    assert not state.exists(), "the last user out stops the embedded server"


async def test_doctor_recommends_a_replica_set_where_there_are_no_transactions(database: Database) -> None:
    if database.backend == "memory":
        pytest.skip("memory:// is a throwaway test database: no recommendation applies")
    settings = Settings(mongodb_uri="mongodb://127.0.0.1", db_name=database.db.name)
    assert "recommendation" not in dict(await doctor_report(database, settings))
    # A standalone mongod: the same server, answering hello without a replica set name.
    database.capabilities = dataclasses.replace(database.capabilities, transactions=False)
    advice = dict(await doctor_report(database, settings))["recommendation"]
    assert "a replica set is recommended" in advice and "no transactions" in advice


def test_the_serve_command_can_spawn_the_embedded_server_before_any_heavy_import() -> None:
    # The server boots in its own process while serve imports the SDK and builds the tools; that overlap is lost
    # as soon as the command line or the embedded-server module imports one of these at the top.
    code = (
        "import sys, mcp_storyboard.cli, mcp_storyboard.db.embedded; "
        "print(sorted(m for m in ('mcp', 'mcp_types', 'pydantic', 'pymongo', 'motor', 'anyio', 'yaml') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_list_tools_does_not_start_the_embedded_database(tmp_path: Path) -> None:
    proc = run_cli("--list-tools", env={"STORYBOARD_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "create_project" in proc.stdout
    assert not (tmp_path / "embedded").exists()


def test_serving_leaves_the_optional_libraries_unimported_until_a_call_needs_them() -> None:
    code = (
        "import sys; from mcp_storyboard.config import Settings; from mcp_storyboard.server import app; "
        "import mcp_storyboard.services.container; app.create_server(Settings(mongodb_uri='memory://')); "
        "print(sorted(m for m in ('puremagic', 'motor', 'mongomock_motor') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_collector_pauses_for_the_servers_imports_and_runs_again_after_even_a_failure() -> None:
    try:
        with pytest.raises(RuntimeError), cli._collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("an import failed")
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # what the block made is left out of later collections
    finally:
        gc.unfreeze()  # this test process goes on collecting as before
