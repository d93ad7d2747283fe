"""Names unique in a scope ignoring case (characters in a project; style templates in a project or the library),
kept by the stored name_key and its unique index on every backend: case folding (``Straße`` = ``STRASSE``), a
refused create or rename writes nothing, and concurrent creates and renames leave exactly one holder."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import NameTaken
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.style_templates import StyleTemplatePatch
from mcp_storyboard.models.characters import CharacterChanges
from mcp_storyboard.services.container import Services, open_services
from tests.seed import seed_project, snapshot

ROUNDS = 20
SPELLINGS = ("Straße", "STRASSE", "strasse", "STRAßE", "Strasse")
"""One name under case folding, five spellings."""


class Kind:
    """Creates and renames of one kind of uniquely named document, through its service."""

    def __init__(self, services: Services, kind: str, scope: str | None) -> None:
        self.services, self.kind, self.scope = services, kind, scope
        self.collection = "characters" if kind == "character" else "style_templates"

    async def create(self, name: str, **fields: Any) -> str:
        if self.kind == "character":
            return (await self.services.characters.create(str(self.scope), name, **fields)).id
        return (await self.services.style_templates.create(self.scope, name, **fields)).id

    async def rename(self, doc_id: str, name: str, description: str) -> None:
        if self.kind == "character":
            await self.services.characters.update(doc_id, CharacterChanges(name=name, description=description))
        else:
            await self.services.style_templates.update(doc_id, StyleTemplatePatch(name=name, description=description))

    async def stored(self) -> list[dict[str, Any]]:
        found = self.services.database.collection(self.collection).find({"project_id": self.scope}, {"_id": 0})
        return list(await found.to_list(None))


KINDS = [("character", "project"), ("style template", "project"), ("style template", "library")]


@pytest.fixture(params=KINDS, ids=lambda k: f"{k[0]}-{k[1]}".replace(" ", "_"))
async def kind(request: pytest.FixtureRequest, services: Services) -> Kind:
    name, scope = request.param
    return Kind(services, name, await seed_project(services) if scope == "project" else None)


async def test_names_equal_after_case_folding_collide_and_the_stored_key_follows_the_name(kind: Kind) -> None:
    first = await kind.create("Straße")
    before = await snapshot(kind.services)
    for spelling in SPELLINGS[1:]:
        with pytest.raises(NameTaken) as caught:
            await kind.create(spelling)
        assert (caught.value.code, caught.value.field, caught.value.holder_id) == ("duplicate", "name", first)
        assert "name 'Straße' is taken" in str(caught.value)
    composed = unicodedata.normalize("NFC", "Café")
    await kind.create(composed)
    with pytest.raises(NameTaken):
        await kind.create(unicodedata.normalize("NFD", "CAFÉ"))  # the same letters, decomposed
    assert await snapshot(kind.services) != before  # only the Café create wrote
    await kind.rename(first, "Hero", "renamed")
    assert {d["name"]: d["name_key"] for d in await kind.stored()} == {"Hero": "hero", composed: "café"}
    assert (await kind.create("strasse")) != first  # the old name is free again


async def test_a_refused_rename_writes_none_of_the_patch(kind: Kind) -> None:
    await kind.create("Hero")
    other = await kind.create("Villain", description="as it was")
    before = await snapshot(kind.services)
    with pytest.raises(NameTaken):
        await kind.rename(other, "HERO", "changed")
    assert await snapshot(kind.services) == before


async def _race(*calls: Callable[[], Awaitable[Any]]) -> list[bool]:
    """Run the calls at once; which of them succeeded (a NameTaken is a loss, anything else fails the test)."""
    won = [False] * len(calls)

    async def run(i: int) -> None:
        try:
            await calls[i]()
        except NameTaken:
            return
        won[i] = True

    async with anyio.create_task_group() as tg:
        for i in range(len(calls)):
            tg.start_soon(run, i)
    return won


async def test_concurrent_creates_and_renames_of_one_name_leave_exactly_one_holder(kind: Kind) -> None:
    if kind.services.database.backend == "memory":
        pytest.skip("memory:// (mongomock) never interleaves concurrent calls; the race needs the embedded backend")
    for round_ in range(ROUNDS):
        creates = [lambda s=s: kind.create(f"{s} {round_}") for s in SPELLINGS]
        assert sum(await _race(*creates)) == 1, f"round {round_}: creates"

        names = [f"Rival {round_}-{i}" for i in range(3)]
        rivals = [await kind.create(name, description="untouched") for name in names]
        targets = [f"{s} Hero {round_}" for s in SPELLINGS]
        won = await _race(
            *[lambda r=r, t=t: kind.rename(r, t, "renamed") for r, t in zip(rivals, targets)],
            lambda: kind.create(targets[-1]),
        )
        assert sum(won) == 1, f"round {round_}: renames and a create"
        stored = {d["id"]: d for d in await kind.stored()}
        holders = [d for d in stored.values() if d["name_key"] == f"strasse hero {round_}"]
        assert len(holders) == 1, f"round {round_}: {[d['name'] for d in holders]}"
        for rival, name, renamed in zip(rivals, names, won):
            if not renamed:  # a losing rename left the document exactly as it was
                assert (stored[rival]["name"], stored[rival]["description"]) == (name, "untouched")


async def test_services_start_on_an_old_database_whose_names_collide_and_keep_them_unique(
    database: Database, request: pytest.FixtureRequest
) -> None:
    if database.backend == "memory":
        pytest.skip("every memory:// connection is a new empty database")
    old = [{"id": f"c{i}", "project_id": "p", "name": name, "created_at": datetime(2025, 1, i + 1, tzinfo=UTC)}
           for i, name in enumerate(("Straße", "STRASSE"))]  # fmt: skip
    await database.collection("characters").insert_many(old)
    settings = Settings(mongodb_uri=request.getfixturevalue("embedded_uri"), db_name=database.db.name)
    async with open_services(settings) as services:
        assert [c.name for c in await services.repositories.characters.list_for_project("p")] == ["STRASSE (2)", "Straße"]
        with pytest.raises(NameTaken):
            await services.repositories.characters.insert(Character(project_id="p", name="strasse"))
