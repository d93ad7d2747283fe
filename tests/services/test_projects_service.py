"""ProjectService on every backend: CRUD, listing, the cascading delete, the tree in three queries, the shot list."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.models import (
    Character,
    Clip,
    FaceFusionJob,
    GeneratedMedia,
    GenerationBatch,
    Project,
    ProjectPatch,
    Scene,
    StyleTemplate,
)
from mcp_storyboard.models.render_jobs import RenderJob
from mcp_storyboard.services.common.alternates import counter_key
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.projects.tree import TreeOptions


@dataclass
class Seeded:
    project: Project
    intro: Scene
    verse: Scene
    verse_sub: Scene
    verse_alt: Scene
    clips: dict[str, Clip] = field(default_factory=dict)
    character: Character | None = None
    template: StyleTemplate | None = None
    media_id: str = ""


async def seed(services: Services, name: str = "Song") -> Seeded:
    """A project with nested scenes, an alternate scene, clips (one an alternate), a character, a template,
    counters, media, a FaceFusion job and a generation batch."""
    repos = services.repositories
    project = await services.projects.create(name, description="A music video")
    pid = project.id
    intro = Scene(project_id=pid, name="Intro", order=0)
    verse = Scene(project_id=pid, name="Verse", order=1)
    verse_sub = Scene(project_id=pid, name="Verse close-ups", order=0, parent_scene_id=verse.id)
    verse_alt = Scene(
        project_id=pid, name="Verse A1", order=1, parent_scene_id=verse.id, is_alternate=True, alternate_number=1
    )
    await repos.scenes.insert_many([intro, verse, verse_sub, verse_alt])
    character = await repos.characters.insert(Character(project_id=pid, name="Ana"))
    template = await repos.style_templates.insert(StyleTemplate(project_id=pid, name="Noir"))
    image = GeneratedMedia(url="storyboard://media/abc")
    c1 = Clip(
        project_id=pid,
        scene_id=intro.id,
        name="Wide",
        order=0,
        timeline_position=0,
        duration=4,
        image_prompt="a city at dawn",
        character_id=character.id,
        style_template_id=template.id,
        generated_images=[image],
        selected_image_id=image.id,
    )
    c2 = Clip(project_id=pid, scene_id=intro.id, name="Close", order=1, timeline_position=4, duration=2.5)
    c2_alt = Clip(
        project_id=pid,
        scene_id=intro.id,
        name="Close A1",
        order=2,
        timeline_position=4,
        duration=6,
        alternate_of=c2.id,
        alternate_number=1,
    )
    c3 = Clip(project_id=pid, scene_id=verse.id, name="Verse 1", order=0, timeline_position=0, duration=10)
    c4 = Clip(
        project_id=pid,
        scene_id=verse_sub.id,
        name="Eyes",
        order=0,
        timeline_position=0,
        duration=3,
        video_prompt="slow push in",
    )
    c5 = Clip(project_id=pid, scene_id=verse_alt.id, name="Alt verse", order=0, timeline_position=0, duration=8)
    await repos.clips.insert_many([c1, c2, c2_alt, c3, c4, c5])
    await repos.counters.next_value(counter_key("scene", verse.id))
    await repos.counters.next_value(counter_key("clip", c2.id))
    media = await services.database.media.put(b"RIFFdata", content_type="audio/wav", project_id=pid)
    await services.projects.facefusion_jobs.insert(FaceFusionJob(project_id=pid, job_type="enhance"))
    await services.projects.generation_batches.insert(GenerationBatch(project_id=pid))
    await services.projects.render_jobs.insert(RenderJob(project_id=pid))
    clips = {c.name: c for c in (c1, c2, c2_alt, c3, c4, c5)}
    return Seeded(project, intro, verse, verse_sub, verse_alt, clips, character, template, media.id)


async def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every document of every collection (counters keep their ``_id``, their key) plus the media store."""
    names = sorted(n for n in await db.db.list_collection_names() if not n.startswith("media."))
    out: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        projection = None if name == "counters" else {"_id": 0}
        out[name] = await db.collection(name).find({}, projection).sort([("id", 1), ("_id", 1)]).to_list(None)
    out["media"] = [m.model_dump() for m in (await db.media.list(limit=100)).items]
    return out


# -- create, get, list, update ------------------------------------------------------------------------------------
async def test_create_then_get_returns_the_same_project(services: Services) -> None:
    created = await services.projects.create("  Clip show  ", description="d", music_duration=12.5)
    assert created.name == "Clip show"
    assert await services.projects.get(created.id) == created


async def test_get_of_an_unknown_project_names_the_recent_ones(services: Services) -> None:
    await services.projects.create("Alpha")
    with pytest.raises(NotFoundError) as caught:
        await services.projects.get("nope")
    assert "Alpha" in str(caught.value) and "list_projects" in str(caught.value)


async def test_create_refuses_a_music_media_id_missing_from_the_media_store(services: Services, db: Database) -> None:
    with pytest.raises(NotFoundError, match="media 'missing'"):
        await services.projects.create("X", music_media_id="missing")
    assert await db.collection("projects").count_documents({}) == 0


async def test_list_is_newest_first_and_pages_with_a_cursor(services: Services) -> None:
    created = [await services.projects.create(f"P{i}") for i in range(5)]
    first = await services.projects.list_page(limit=2)
    second = await services.projects.list_page(limit=2, cursor=first.next_cursor)
    third = await services.projects.list_page(limit=2, cursor=second.next_cursor)
    listed = [p.id for p in first.items + second.items + third.items]
    expected = [p.id for p in sorted(created, key=lambda p: (-p.created_at.timestamp(), p.id))]
    assert listed == expected
    assert third.next_cursor is None


async def test_list_searches_names_as_plain_text_case_insensitively(services: Services) -> None:
    await services.projects.create("Night drive")
    await services.projects.create("nightly")
    await services.projects.create("a.c")
    await services.projects.create("abc")
    assert sorted(p.name for p in (await services.projects.list_page(name_contains="NIGHT")).items) == [
        "Night drive",
        "nightly",
    ]
    assert [p.name for p in (await services.projects.list_page(name_contains="a.c")).items] == ["a.c"]
    assert (await services.projects.list_page(name_contains=".*")).items == []


async def test_update_changes_only_the_fields_set_and_null_clears_an_optional_one(services: Services) -> None:
    project = await services.projects.create(
        "Old", description="keep", thumbnail_url="https://x/t.png", music_duration=30
    )
    updated = await services.projects.update(project.id, ProjectPatch(name="New", thumbnail_url=None))
    assert (updated.name, updated.description, updated.thumbnail_url, updated.music_duration) == (
        "New",
        "keep",
        None,
        30,
    )
    assert updated.updated_at >= project.updated_at


async def test_an_empty_patch_is_refused_naming_the_fields(services: Services) -> None:
    project = await services.projects.create("P")
    with pytest.raises(ValidationError) as caught:
        await services.projects.update(project.id, ProjectPatch())
    assert "music_duration" in str(caught.value)


async def test_update_of_an_unknown_project_is_not_found(services: Services) -> None:
    with pytest.raises(NotFoundError, match="project 'ghost'"):
        await services.projects.update("ghost", ProjectPatch(name="X"))


# -- delete ----------------------------------------------------------------------------------------------------------
async def test_delete_without_confirm_changes_nothing_and_says_what_would_go(services: Services, db: Database) -> None:
    seeded = await seed(services)
    before = await snapshot(db)
    with pytest.raises(InvalidStateError) as caught:
        await services.projects.delete(seeded.project.id, confirm=False)
    assert caught.value.code == "confirmation-required"
    text = str(caught.value)
    assert "4 scenes, 6 clips, 1 character, 1 style template, 1 media file" in text
    assert "confirm=true" in text
    assert await snapshot(db) == before


async def test_delete_removes_everything_of_the_project_and_nothing_else(services: Services, db: Database) -> None:
    doomed = await seed(services, "Doomed")
    kept = await seed(services, "Kept")
    library = await services.repositories.style_templates.insert(StyleTemplate(project_id=None, name="Library look"))
    before = await snapshot(db)

    result = await services.projects.delete(doomed.project.id, confirm=True)

    deleted = result.deleted
    assert (
        deleted.scenes,
        deleted.clips,
        deleted.characters,
        deleted.style_templates,
        deleted.media,
        deleted.facefusion_jobs,
        deleted.generation_batches,
        deleted.render_jobs,
    ) == (4, 6, 1, 1, 1, 1, 1, 1)
    doomed_ids = {
        doomed.project.id,
        doomed.intro.id,
        doomed.verse.id,
        doomed.verse_sub.id,
        doomed.verse_alt.id,
        *(c.id for c in doomed.clips.values()),
    }
    doomed_keys = {counter_key(kind, i) for kind in ("scene", "clip") for i in doomed_ids}

    def belongs(doc: dict[str, Any]) -> bool:
        return (
            doc.get("project_id") == doomed.project.id or doc.get("id") in doomed_ids or doc.get("_id") in doomed_keys
        )

    after = await snapshot(db)
    assert any(belongs(d) for docs in before.values() for d in docs)
    assert {name: [d for d in docs if not belongs(d)] for name, docs in before.items()} == after
    assert await services.repositories.style_templates.get(library.id) == library
    assert await services.projects.get(kept.project.id) == kept.project
    assert len(after["counters"]) == 2 and len(after["media"]) == 1


async def test_delete_of_an_unknown_project_is_not_found_with_or_without_confirm(services: Services) -> None:
    for confirm in (False, True):
        with pytest.raises(NotFoundError, match="project 'ghost'"):
            await services.projects.delete("ghost", confirm=confirm)


# -- tree --------------------------------------------------------------------------------------------------------------
async def test_the_tree_nests_sub_scenes_lists_alternates_and_places_scenes(services: Services) -> None:
    s = await seed(services)
    tree = await services.projects.tree(s.project.id)
    assert [n.name for n in tree.scenes] == ["Intro", "Verse"]
    intro, verse = tree.scenes
    assert [c.name for c in intro.clips] == ["Wide", "Close", "Close A1"]
    assert intro.clips[2].alternate_of == s.clips["Close"].id
    assert (intro.offset, intro.duration) == (0.0, 6.5)  # the alternate clip (ends at 10) does not count
    assert [n.name for n in verse.sub_scenes] == ["Verse close-ups"]
    assert [(n.name, n.is_alternate, n.alternate_number) for n in verse.alternates] == [("Verse A1", True, 1)]
    assert (verse.offset, verse.duration) == (6.5, 10.0)
    assert verse.sub_scenes[0].offset == 16.5
    assert verse.alternates[0].offset == 6.5  # shares its original's slot
    assert tree.total_duration == 19.5
    assert (tree.scene_count, tree.clip_count) == (4, 6)
    wide = intro.clips[0]
    assert (wide.has_image_prompt, wide.has_video_prompt, wide.has_selected_image, wide.has_selected_video) == (
        True,
        False,
        True,
        False,
    )
    assert wide.character_id == s.character.id  # type: ignore[union-attr]
    assert verse.sub_scenes[0].clips[0].has_video_prompt


async def test_the_tree_costs_three_repository_reads_however_many_scenes_and_clips(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = await seed(services)
    extra = [Scene(project_id=s.project.id, name=f"S{i}", order=2 + i) for i in range(30)]
    await services.repositories.scenes.insert_many(extra)
    await services.repositories.clips.insert_many(
        [
            Clip(project_id=s.project.id, scene_id=sc.id, order=j, timeline_position=j * 5)
            for sc in extra
            for j in range(10)
        ]
    )
    calls: list[str] = []
    repos = services.repositories
    for repo in (repos.projects, repos.scenes, repos.clips, repos.characters, repos.style_templates):
        for name in ("find", "get", "get_many", "_find_all", "_page", "count", "outlines_for_project", "scene_stats",
                     "list_with_clip_stats"):
            if not hasattr(repo, name):
                continue
            original = getattr(repo, name)

            async def counting(
                *args: Any, _original: Any = original, _name: str = f"{repo.kind}.{name}", **kwargs: Any
            ) -> Any:
                calls.append(_name)
                return await _original(*args, **kwargs)

            monkeypatch.setattr(repo, name, counting)
    tree = await services.projects.tree(s.project.id)
    assert tree.clip_count == 306
    assert calls == ["project.find", "scene.list_with_clip_stats", "clip.outlines_for_project"]


async def test_the_tree_on_a_wire_backend_issues_three_find_commands(
    db: Database, request: pytest.FixtureRequest
) -> None:
    if db.backend == "memory":
        pytest.skip("memory:// has no wire protocol to monitor")
    from pymongo import AsyncMongoClient, monitoring

    class Commands(monitoring.CommandListener):
        def __init__(self) -> None:
            self.names: list[str] = []

        def started(self, event: monitoring.CommandStartedEvent) -> None:
            self.names.append(event.command_name)

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
            pass

        def failed(self, event: monitoring.CommandFailedEvent) -> None:
            pass

    seeding = Services.over(db)
    s = await seed(seeding)
    listener = Commands()
    client: AsyncMongoClient[Any] = AsyncMongoClient(
        request.getfixturevalue("embedded_uri"),
        event_listeners=[listener],
        tz_aware=True,
        uuidRepresentation="standard",
    )
    try:
        watched = Database(
            client=client,
            db=client[db.db.name],
            backend=db.backend,
            driver="pymongo",
            capabilities=db.capabilities,
            media=db.media,
            uri_for_display="monitored",
        )
        await client.admin.command("ping")
        listener.names.clear()
        tree = await Services.over(watched).projects.tree(s.project.id)
        commands = list(listener.names)
    finally:
        await client.close()
    assert tree.clip_count == 6
    assert commands == ["find", "find", "find"]


async def test_a_subtree_keeps_project_offsets_and_an_unknown_scene_lists_the_top_level(services: Services) -> None:
    s = await seed(services)
    tree = await services.projects.tree(s.project.id, TreeOptions(scene_id=s.verse_sub.id))
    assert [n.name for n in tree.scenes] == ["Verse close-ups"]
    assert tree.scenes[0].offset == 16.5 and tree.root_scene_id == s.verse_sub.id
    with pytest.raises(NotFoundError) as caught:
        await services.projects.tree(s.project.id, TreeOptions(scene_id="elsewhere"))
    assert "Intro" in str(caught.value) and "Verse" in str(caught.value)


async def test_a_tree_over_the_byte_limit_is_refused_with_ways_to_narrow_it_that_fit(services: Services) -> None:
    s = await seed(services)
    limit = 1700  # the seeded tree is about 1.8 KB, 0.9 KB without clips
    with pytest.raises(InvalidStateError) as caught:
        await services.projects.tree(s.project.id, max_bytes=limit)
    assert caught.value.code == "too-large"
    text = str(caught.value)
    assert "include_clips=false" in text and f"scene_id=<one top-level scene>, e.g. {s.intro.id} (Intro)" in text
    suggested = int(re.search(r"max_clips_per_scene=(\d+)", text).group(1))  # type: ignore[union-attr]
    assert suggested >= 1
    assert await services.projects.tree(s.project.id, TreeOptions(max_clips_per_scene=suggested), max_bytes=limit)
    assert await services.projects.tree(s.project.id, TreeOptions(include_clips=False), max_bytes=limit)


async def test_the_tree_of_an_unknown_project_is_not_found(services: Services) -> None:
    with pytest.raises(NotFoundError, match="project 'ghost'"):
        await services.projects.tree("ghost")


# -- Markdown and completion ---------------------------------------------------------------------------------------
async def test_the_shot_list_names_characters_templates_and_links_the_selected_media(services: Services) -> None:
    s = await seed(services)
    text = await services.projects.storyboard_markdown(s.project.id)
    assert text.startswith("# Song\n")
    assert "## 1. Intro" in text and "## 2. Verse" in text
    assert "### 2.1. Verse close-ups" in text
    assert "### Alternate A1. Verse A1" in text
    row = next(line for line in text.splitlines() if line.startswith("| 1 | 00:00.00"))
    assert "| Ana | Noir | [image](storyboard://media/abc) |" in row
    assert "Close A1 *(alternate A1 of Close)*" in text


async def test_completion_offers_ids_by_prefix_and_by_name(services: Services) -> None:
    alpha = await services.projects.create("Alpha video")
    beta = await services.projects.create("Beta")
    assert await services.projects.complete_ids(alpha.id, limit=10) == [alpha.id]
    assert await services.projects.complete_ids("video", limit=10) == [alpha.id]
    assert set(await services.projects.complete_ids("", limit=10)) == {alpha.id, beta.id}
    assert await services.projects.complete_ids(".*", limit=10) == []
