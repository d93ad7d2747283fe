"""Every paginated list has an index holding its equality filter and its whole sort (the ``id`` tie-breaker
included), read from the very ``find`` each list sends; ``explain`` on the embedded server shows the plan.

SecantusDB 0.7.0b3 plans such a list as ``SORT < FETCH < IXSCAN``: it scans the index range, then sorts, and applies
the limit only after reading every matching document (its limit, recorded here; MongoDB walks the index in sort
order and stops at the limit); with an empty filter it walks the index in order and stops at the limit too. It plans
``COLLSCAN`` when the filter has a field the index does not hold (a regex, a null, an extra status) or any ``$or``;
MongoDB uses the index and filters the rest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.indexes import ALL_INDEXES, ensure_indexes
from mcp_storyboard.repositories.api_tokens import ApiTokenRepository
from mcp_storyboard.repositories.characters import CharacterRepository
from mcp_storyboard.repositories.civitai_models import CivitAIModelRepository
from mcp_storyboard.repositories.clips import ClipRepository
from mcp_storyboard.repositories.comfyui_servers import ComfyUIServerRepository
from mcp_storyboard.repositories.database_models import DatabaseModelRepository
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.repositories.facefusion_presets import FaceFusionPresetRepository
from mcp_storyboard.repositories.generation_batches import GenerationBatchRepository
from mcp_storyboard.repositories.projects import ProjectRepository
from mcp_storyboard.repositories.scenes import SceneRepository
from mcp_storyboard.repositories.style_templates import StyleTemplateRepository
from mcp_storyboard.repositories.users import UserRepository

List = Callable[[Database], Awaitable[object]]
LISTS: dict[str, List] = {
    "list_projects": lambda d: ProjectRepository(d).list_page(),
    "list_projects of an owner": lambda d: ProjectRepository(d).list_page(owner_id="u1"),
    "list_projects by name": lambda d: ProjectRepository(d).list_page(name_contains="neon"),
    "list_scenes": lambda d: SceneRepository(d).page_for_project("p1"),
    "list_scenes of a parent": lambda d: SceneRepository(d).page_for_project("p1", parent_scene_id="s1"),
    "list_scenes top level": lambda d: SceneRepository(d).page_for_project("p1", top_level_only=True),
    "list_clips": lambda d: ClipRepository(d).page_for_scene("s1"),
    "list_clips main only": lambda d: ClipRepository(d).page_for_scene("s1", include_alternates=False),
    "list_characters": lambda d: CharacterRepository(d).page_summaries("p1"),
    "characters of a project": lambda d: CharacterRepository(d).page_for_project("p1"),
    "list_style_templates": lambda d: StyleTemplateRepository(d).page_for_project("p1"),
    "FaceFusion jobs of a project": lambda d: FaceFusionJobRepository(d).page_for_project("p1", status="queued"),
    "FaceFusion jobs of a character": lambda d: FaceFusionJobRepository(d).page_for_character("c1"),
    "FaceFusion jobs by status": lambda d: FaceFusionJobRepository(d).page_by_status("queued"),
    "generation batches of a project": lambda d: GenerationBatchRepository(d).page_for_project("p1"),
    "generation batches by status": lambda d: GenerationBatchRepository(d).page_by_status("queued"),
    "FaceFusion presets": lambda d: FaceFusionPresetRepository(d).page_visible("u1"),
    "database models": lambda d: DatabaseModelRepository(d).page_by_type(),
    "CivitAI models": lambda d: CivitAIModelRepository(d).page(),
    "ComfyUI servers": lambda d: ComfyUIServerRepository(d).page(),
    "users": lambda d: UserRepository(d).page(),
    "API tokens": lambda d: ApiTokenRepository(d).page(),
    "API tokens of a user": lambda d: ApiTokenRepository(d).page(user_id="u1"),
}


class Finds(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find":
            self.commands.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def equality_fields(query: dict[str, Any]) -> set[str]:
    """Fields the filter pins to one value (or a few, with ``$in``): an index may lead with them."""
    pinned = set()
    for field, condition in query.items():
        if field.startswith("$"):
            continue
        if not isinstance(condition, dict) or set(condition) <= {"$eq", "$in"}:
            pinned.add(field)
    return pinned


def serving_index(collection: str, query: dict[str, Any], sort: list[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """The declared index whose keys are some of the filter's pinned fields, then the whole sort — the one holding
    the most of the filter's fields."""
    pinned = equality_fields(query)
    serving = []
    for spec in ALL_INDEXES:
        if spec.collection != collection or len(spec.keys) < len(sort):
            continue
        prefix, rest = spec.keys[: len(spec.keys) - len(sort)], spec.keys[len(spec.keys) - len(sort) :]
        if list(rest) == sort and all(field in pinned for field, _ in prefix):
            serving.append(spec.keys)
    assert serving, f"no index serves {collection} filter {query} sort {sort}"
    return max(serving, key=lambda keys: len(set(query) & {field for field, _ in keys}))


def plan_stages(plan: dict[str, Any]) -> list[str]:
    stages = []
    node: dict[str, Any] | None = plan.get("queryPlan", plan)
    while node:
        stages.append(node["stage"])
        node = node.get("inputStage") or (node.get("inputStages") or [None])[0]
    return stages


@pytest.fixture
async def watched(db: Database, request: pytest.FixtureRequest) -> Any:
    """``db`` with its indexes, seen through a client that records every ``find``."""
    if db.backend == "memory" or db.driver != "pymongo":
        pytest.skip("explain and command monitoring need the wire protocol (one driver is enough)")
    await ensure_indexes(db)
    listener = Finds()
    client: AsyncMongoClient[Any] = AsyncMongoClient(request.getfixturevalue("embedded_uri"), event_listeners=[listener],
                                                     tz_aware=True)  # fmt: skip
    database = Database(client=client, db=client[db.db.name], backend=db.backend, driver="pymongo",
                        capabilities=db.capabilities, media=db.media, uri_for_display="monitored")  # fmt: skip
    yield database, listener
    await client.close()


@pytest.mark.parametrize("name", list(LISTS))
async def test_each_list_has_an_index_for_its_filter_and_whole_sort_and_the_server_uses_one(
    name: str, watched: Any
) -> None:
    database, listener = watched
    await LISTS[name](database)
    find = listener.commands[-1]
    sort = [(field, int(direction)) for field, direction in dict(find["sort"]).items()]
    assert sort[-1][0] in ("id", "username"), f"{name} sorts without a unique tie-breaker: {sort}"
    keys = serving_index(find["find"], dict(find["filter"]), sort)
    command = {k: find[k] for k in ("find", "filter", "sort", "limit", "projection") if k in find}
    plan = (await database.db.command("explain", command, verbosity="queryPlanner"))["queryPlanner"]["winningPlan"]
    stages = plan_stages(plan)
    print(f"{name}: filter {dict(find['filter'])} sort {sort} -> index {keys}; plan {' < '.join(stages)}")
    # Where the index leads with every field of the filter, pinned, the embedded server scans it; a field left to
    # filter the documents (a regex, a null, a flag the index does not lead with, any $or) makes it scan the collection.
    filtered = set(find["filter"])
    if filtered == {field for field, _ in keys[: len(filtered)]} and filtered <= equality_fields(find["filter"]):
        assert "IXSCAN" in stages and "COLLSCAN" not in stages, stages


async def test_a_later_page_reads_index_ranges_without_an_or(watched: Any) -> None:
    from mcp_storyboard.models.clips import Clip

    database, listener = watched
    clips = ClipRepository(database)
    await clips.insert_many([Clip(project_id="p1", scene_id="s1", order=i // 2) for i in range(70)])  # ties on order
    everything = await clips.list_for_scene("s1")
    first = await clips.page_for_scene("s1", limit=30)
    listener.commands.clear()
    second = await clips.page_for_scene("s1", limit=30, cursor=first.next_cursor)
    third = await clips.page_for_scene("s1", limit=30, cursor=second.next_cursor)
    assert [c.id for c in first.items + second.items + third.items] == [c.id for c in everything]
    assert third.next_cursor is None and listener.commands
    for find in listener.commands:
        assert "$or" not in str(find["filter"]), find["filter"]
        plan = await database.db.command("explain", {k: find[k] for k in ("find", "filter", "sort", "limit")},
                                         verbosity="queryPlanner")  # fmt: skip
        assert "IXSCAN" in plan_stages(plan["queryPlanner"]["winningPlan"])
