"""``mcp-storyboard gc-media``: lists the files of projects that no longer exist, deletes them only with --apply;
on the embedded database (GridFS), through the CLI's own functions. And the import setting it sits beside."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mcp_storyboard.cli import build_parser, run_gc_media
from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import connect
from mcp_storyboard.errors import ConfigError
from mcp_storyboard.services.container import Services
from tests.media_samples import b64, png
from tests.seed import seed_project


@pytest.fixture(params=["pymongo", "motor"])
async def settings(request: pytest.FixtureRequest, embedded_uri: str) -> AsyncIterator[Settings]:
    chosen = Settings(mongodb_uri=embedded_uri, db_name=f"t_{uuid.uuid4().hex[:12]}", driver=request.param,
                      data_dir=Path("/nonexistent"))
    yield chosen
    async with connect(chosen) as database:
        await database.client.drop_database(chosen.db_name)


async def gc(settings: Settings, *, apply: bool) -> str:
    out = io.StringIO()
    assert await run_gc_media(settings, out, apply=apply) == 0
    return out.getvalue()


async def test_gc_media_lists_orphans_by_default_and_deletes_only_with_apply(settings: Settings) -> None:
    async with connect(settings) as database:
        services = Services.over(database)
        live, gone = await seed_project(services, "Live"), await seed_project(services, "Gone")
        kept = await services.media.upload(live, "kept.png", b64(png()), "image/png")
        orphan = await services.media.upload(gone, "orphan.png", b64(png(2)), "image/png")
        await services.repositories.projects.delete(gone)  # a project delete that stopped before its media step

    listed = await gc(settings, apply=False)
    assert listed.splitlines() == [
        f"orphan {orphan.id} {orphan.size} bytes image/png 'orphan.png' (project {gone})",
        f"1 orphaned file(s), {orphan.size} bytes; run gc-media --apply to delete them",
    ]
    assert await gc(settings, apply=False) == listed  # a dry run changes nothing
    assert f"deleted 1 orphaned file(s) of 1 found, {orphan.size} bytes" in await gc(settings, apply=True)
    assert await gc(settings, apply=False) == "no orphaned media files\n"
    async with connect(settings) as database:
        assert [i.id for i in (await Services.over(database).media.list_page()).items] == [kept.id]


def test_gc_media_is_a_dry_run_unless_apply_is_given() -> None:
    assert build_parser().parse_args(["gc-media"]).apply is False
    assert build_parser().parse_args(["gc-media", "--apply"]).apply is True


@pytest.mark.parametrize(("raw", "allowed"), [("1", True), ("true", True), ("0", False), ("no", False)])
def test_private_imports_are_off_unless_the_setting_turns_them_on(raw: str, allowed: bool) -> None:
    assert Settings.from_env({}).media_allow_private is False
    assert Settings.from_env({"STORYBOARD_MEDIA_ALLOW_PRIVATE": raw}).media_allow_private is allowed


def test_a_bad_private_import_setting_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="STORYBOARD_MEDIA_ALLOW_PRIVATE 'maybe' is not a yes/no value"):
        Settings.from_env({"STORYBOARD_MEDIA_ALLOW_PRIVATE": "maybe"})


async def test_the_served_services_import_with_the_configured_address_rule() -> None:
    from mcp_storyboard.services.container import open_services

    for allowed in (False, True):
        async with open_services(Settings(mongodb_uri="memory://", media_allow_private=allowed)) as services:
            assert services.media.fetcher.allow_private is allowed
