"""``owner_scoped_view``: each driver call made while an ``OwnerScope`` is bound sees and changes only what the
scope's user owns, on memory://, the embedded server with PyMongo and with Motor; without a scope it sees all."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import UpdateOne

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.owner_scope import OwnerScope, owner_scoped_view, restrict, scoped_to
from mcp_storyboard.errors import ForbiddenError, NotFoundError

ANA, BOB = "ana", "bob"


async def seeded(db: Database) -> Database:
    await db.collection("projects").insert_many([
        {"id": "p-ana", "name": "Hers", "owner_id": ANA}, {"id": "p-bob", "name": "His", "owner_id": BOB},
        {"id": "p-none", "name": "Nobody's", "owner_id": None},
    ])  # fmt: skip
    await db.collection("clips").insert_many([
        {"id": f"c-{owner}-{n}", "project_id": f"p-{owner}", "name": f"{owner} {n}", "order": n}
        for owner in (ANA, BOB) for n in range(3)
    ])  # fmt: skip
    await db.collection("style_templates").insert_many([
        {"id": "t-ana", "project_id": "p-ana", "name": "Noir"}, {"id": "t-lib", "project_id": None, "name": "Library"},
    ])  # fmt: skip
    await db.collection("facefusion_presets").insert_many([
        {"id": "f-ana", "user_id": ANA, "is_public": False}, {"id": "f-bob", "user_id": BOB, "is_public": False},
        {"id": "f-pub", "user_id": BOB, "is_public": True},
    ])  # fmt: skip
    return owner_scoped_view(db)


def as_ana() -> Any:
    return scoped_to(OwnerScope(ANA, {"p-ana"}))


async def ids(cursor: Any) -> list[str]:
    return sorted(d["id"] for d in await cursor.to_list(None))


async def test_reads_see_only_the_callers_projects_and_what_is_under_them(database: Database) -> None:
    view = await seeded(database)
    projects, clips = view.collection("projects"), view.collection("clips")
    assert len(await ids(projects.find({}))) == 3  # no scope bound: everything
    with as_ana():
        assert await ids(projects.find({})) == ["p-ana"]
        assert await projects.find_one({"id": "p-bob"}) is None
        assert await ids(clips.find({"order": {"$gte": 1}})) == ["c-ana-1", "c-ana-2"]
        assert await clips.count_documents({"project_id": "p-bob"}) == 0
        assert await ids(clips.find(filter={"project_id": {"$in": ["p-ana", "p-bob"]}})) == [
            "c-ana-0", "c-ana-1", "c-ana-2"]
        grouped = await (await _aggregate(clips, [{"$group": {"_id": "$project_id", "n": {"$sum": 1}}}]))
        assert grouped == [{"_id": "p-ana", "n": 3}]
        assert sorted(await view.collection("style_templates").distinct("id")) == ["t-ana", "t-lib"]
        assert await ids(view.collection("facefusion_presets").find({})) == ["f-ana", "f-pub"]


async def test_writes_change_only_what_the_caller_owns(database: Database) -> None:
    view = await seeded(database)
    clips, templates = view.collection("clips"), view.collection("style_templates")
    with as_ana():
        assert (await clips.update_many({}, {"$set": {"name": "x"}})).matched_count == 3
        assert (await clips.delete_one({"id": "c-bob-0"})).deleted_count == 0
        assert await clips.find_one_and_update({"id": "c-bob-1"}, {"$set": {"name": "x"}}) is None
        assert (await templates.update_one({"id": "t-lib"}, {"$inc": {"use_count": 1}})).matched_count == 1
        assert (await view.collection("facefusion_presets").delete_one({"id": "f-pub"})).deleted_count == 0
        result = await clips.bulk_write([UpdateOne({"id": "c-bob-2"}, {"$set": {"order": 9}}),
                                         UpdateOne({"id": "c-ana-2"}, {"$set": {"order": 9}})], ordered=True)
        assert result.matched_count == 1
        with pytest.raises(ForbiddenError):
            await clips.update_one({"id": "c-new"}, {"$set": {"name": "x"}}, upsert=True)
    bob = await database.collection("clips").find({"project_id": "p-bob"}, {"_id": 0}).to_list(None)
    assert {c["name"] for c in bob} == {"bob 0", "bob 1", "bob 2"} and {c["order"] for c in bob} == {0, 1, 2}


async def test_inserts_must_belong_to_the_caller(database: Database) -> None:
    view = await seeded(database)
    with as_ana() as scope:
        with pytest.raises(ForbiddenError, match="another user"):
            await view.collection("clips").insert_one({"id": "c-x", "project_id": "p-bob"})
        with pytest.raises(ForbiddenError):
            await view.collection("projects").insert_one({"id": "p-x", "owner_id": BOB})
        with pytest.raises(ForbiddenError):
            await view.collection("style_templates").insert_one({"id": "t-x", "project_id": None})
        await view.collection("projects").insert_one({"id": "p-new", "owner_id": ANA})
        assert scope.owns("p-new")  # what she just created is hers for the rest of the request
        await view.collection("clips").insert_many([{"id": "c-new", "project_id": "p-new"}])
    assert await database.collection("clips").count_documents({"id": {"$in": ["c-x", "c-new"]}}) == 1
    assert await database.collection("projects").count_documents({"id": "p-x"}) == 0


async def test_methods_not_named_are_refused_while_scoped(database: Database) -> None:
    view = await seeded(database)
    with as_ana(), pytest.raises(ForbiddenError):
        await view.collection("clips").estimated_document_count()
    assert await view.collection("clips").estimated_document_count() == 6  # no scope: the driver's call


async def test_the_media_store_shows_only_the_callers_files(database: Database) -> None:
    view = await seeded(database)
    hers = await database.media.put(b"a", content_type="text/plain", project_id="p-ana")
    his = await database.media.put(b"b", content_type="text/plain", project_id="p-bob")
    with as_ana():
        assert (await view.media.get(hers.id))[1] == b"a"
        for read in (view.media.info, view.media.get):
            with pytest.raises(NotFoundError, match=f"media '{his.id}' does not exist"):
                await read(his.id)
        assert [i.id for i in (await view.media.list()).items] == [hers.id]
        assert [i.id for i in (await view.media.list(project_id="p-bob")).items] == []
        assert await view.media.count(project_id="p-bob") == 0
        assert await view.media.delete(his.id) is False
        assert await view.media.delete_project("p-bob") == 0
        with pytest.raises(NotFoundError):
            await view.media.put(b"c", content_type="text/plain", project_id="p-bob")
    assert (await database.media.info(his.id)).project_id == "p-bob"
    assert len((await view.media.list()).items) == 2


def test_restrict_keeps_the_query_and_adds_the_condition() -> None:
    assert restrict({"id": "c"}, {"project_id": {"$in": ["p"]}}) == {"id": "c", "project_id": {"$in": ["p"]}}
    assert restrict({"project_id": "q"}, {"project_id": {"$in": ["p"]}}) == {
        "$and": [{"project_id": "q"}, {"project_id": {"$in": ["p"]}}]}
    assert restrict(None, {"owner_id": "a"}) == {"owner_id": "a"}


async def _aggregate(collection: Any, pipeline: list[dict[str, Any]]) -> Any:
    """``aggregate`` is a coroutine on PyMongo async and a cursor on Motor and mongomock-motor."""
    cursor = collection.aggregate(pipeline)
    if hasattr(cursor, "__await__"):
        cursor = await cursor

    async def listed() -> list[dict[str, Any]]:
        return list(await cursor.to_list(None))

    return listed()
