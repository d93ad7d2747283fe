"""Every index: the schema's 35 plus the few our own queries need, each with the reason. Created idempotently at
start-up and by ``mcp-storyboard init-db``. ``docs/indexes.md`` lists the same indexes (a test holds them equal).

An index that needs a data migration first (a unique index over a field the migration backfills) names it and
is built by that migration; start-up and init-db leave it to the migration while it is pending (``db/setup.py``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from mcp_storyboard.db.connection import Database


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False
    why: str = ""
    """Empty for the schema's own indexes; the reason for each addition."""
    migration: int | None = None
    """The migration that must run before the index can be built (it builds it); None for most."""

    @property
    def name(self) -> str:
        # MongoDB's default naming, so an index created by the original app's init script is recognised.
        return "_".join(f"{field}_{direction}" for field, direction in self.keys)


def _ix(
    collection: str, *keys: tuple[str, int], unique: bool = False, why: str = "", migration: int | None = None
) -> IndexSpec:
    return IndexSpec(collection, tuple(keys), unique, why, migration)


SCHEMA_INDEXES: tuple[IndexSpec, ...] = (
    _ix("projects", ("id", 1), unique=True),
    _ix("projects", ("created_at", -1)),
    _ix("scenes", ("id", 1), unique=True),
    _ix("scenes", ("project_id", 1), ("order", 1)),
    _ix("scenes", ("parent_scene_id", 1)),
    _ix("scenes", ("is_alternate", 1)),
    _ix("clips", ("id", 1), unique=True),
    _ix("clips", ("scene_id", 1), ("order", 1)),
    _ix("clips", ("scene_id", 1), ("timeline_position", 1)),
    _ix("characters", ("id", 1), unique=True),
    _ix("characters", ("project_id", 1), ("name", 1)),
    _ix("style_templates", ("id", 1), unique=True),
    _ix("style_templates", ("project_id", 1), ("name", 1)),
    _ix("facefusion_jobs", ("id", 1), unique=True),
    _ix("facefusion_jobs", ("status", 1), ("priority", -1), ("created_at", 1)),
    _ix("facefusion_jobs", ("character_id", 1)),
    _ix("facefusion_jobs", ("project_id", 1), ("created_at", -1)),
    _ix("facefusion_presets", ("id", 1), unique=True),
    _ix("facefusion_presets", ("name", 1)),
    _ix("facefusion_presets", ("operation_type", 1), ("is_public", 1)),
    _ix("database_models", ("id", 1), unique=True),
    _ix("database_models", ("is_active", 1), ("type", 1)),
    _ix("database_models", ("base_model", 1), ("is_active", 1)),
    _ix("inference_configurations", ("model_id", 1), ("preset_type", 1), unique=True),
    _ix("civitai_models", ("id", 1), unique=True),
    _ix("civitai_models", ("type", 1), ("nsfw", 1)),
    _ix("generation_batches", ("id", 1), unique=True),
    _ix("generation_batches", ("project_id", 1), ("created_at", -1)),
    _ix("generation_batches", ("status", 1)),
    _ix("users", ("id", 1), unique=True),
    _ix("users", ("username", 1), unique=True),
    _ix("users", ("email", 1), unique=True),
    _ix("comfyui_servers", ("id", 1), unique=True),
    _ix("comfyui_servers", ("url", 1), unique=True),
    _ix("comfyui_servers", ("is_active", 1)),
)

EXTRA_INDEXES: tuple[IndexSpec, ...] = (
    _ix(
        "clips",
        ("project_id", 1),
        ("scene_id", 1),
        ("order", 1),
        why="the project tree, Markdown export and project delete read all clips of a project in one query",
    ),
    _ix("clips", ("character_id", 1), why="deleting a character clears it from its clips"),
    _ix("clips", ("style_template_id", 1), why="deleting a style template clears it from its clips"),
    _ix("clips", ("alternate_of", 1), why="listing the alternates of a clip"),
    _ix(
        "projects",
        ("owner_id", 1),
        ("created_at", -1),
        ("id", 1),
        why="list_projects pages one owner's projects newest first (id breaks ties)",
    ),
    _ix(
        "style_templates",
        ("project_id", 1),
        ("use_count", -1),
        ("id", 1),
        why="templates are listed by use_count descending within a project and the library (null project), id "
        "breaking ties",
    ),
    _ix(
        "generation_batches",
        ("status", 1),
        ("created_at", 1),
        ("id", 1),
        why="the batch queue claims the oldest queued batch; batches of one status are listed oldest first",
    ),
    _ix(
        "characters",
        ("project_id", 1),
        ("name_key", 1),
        unique=True,
        why="character names are unique in a project ignoring case on every backend, with no check-then-write: "
        "name_key is the case-folded name (migration 0003 backfills it, then builds this index)",
        migration=3,
    ),
    _ix(
        "style_templates",
        ("project_id", 1),
        ("name_key", 1),
        unique=True,
        why="style template names are unique in a project, and across the library (null project), ignoring case: "
        "name_key is the case-folded name (migration 0003 backfills it, then builds this index)",
        migration=3,
    ),
    _ix("api_tokens", ("id", 1), unique=True, why="the api_tokens collection (an addition): fetch a token by its id"),
    _ix("api_tokens", ("prefix", 1), unique=True,
        why="a bearer token is found by its prefix on every authenticated request; no two tokens share one"),
    _ix("api_tokens", ("user_id", 1), ("created_at", -1), ("id", 1),
        why="tokens list one owner's tokens newest first (or everyone's by owner), id breaking ties"),
    _ix("rate_limits", ("id", 1), unique=True,
        why="the rate_limits collection (an addition): one call counter per API token, found on every HTTP tool call; "
        "unique so two processes counting a token's first call share one document"),
    _ix("database_models", ("keywords", 1),
        why="search_models on MongoDB and the embedded server (no text indexes): a multikey index over each model's "
        "normalised words, matched by anchored prefix; migration 0005 backfills keywords of older models"),
    _ix("render_jobs", ("id", 1), unique=True, why="the render_jobs collection (an addition): fetch a job by its id"),
    _ix("render_jobs", ("status", 1), ("created_at", 1), ("id", 1),
        why="the render queue claims the oldest queued job; a job's queue position counts the ones before it"),
    _ix("render_jobs", ("project_id", 1), ("created_at", -1), ("id", 1),
        why="list_render_jobs pages a project's jobs newest first, id breaking ties"),
)  # fmt: skip

_TIES = "id breaking ties: the index holds the list's filter and its whole sort, so a page reads its items in index order"
LIST_INDEXES: tuple[IndexSpec, ...] = (
    _ix("projects", ("created_at", -1), ("id", 1), why=f"list_projects newest first, {_TIES}"),
    _ix("scenes", ("project_id", 1), ("order", 1), ("id", 1), why=f"list_scenes in order, {_TIES}"),
    _ix("scenes", ("project_id", 1), ("parent_scene_id", 1), ("order", 1), ("id", 1),
        why=f"list_scenes of one sibling list (a parent's sub-scenes, or the top level), {_TIES}"),
    _ix("clips", ("scene_id", 1), ("order", 1), ("id", 1), why=f"list_clips in order, {_TIES}"),
    _ix("characters", ("project_id", 1), ("name", 1), ("id", 1), why=f"list_characters by name, {_TIES}"),
    _ix("facefusion_jobs", ("project_id", 1), ("created_at", -1), ("id", 1),
        why=f"a project's FaceFusion jobs newest first, {_TIES}"),
    _ix("facefusion_jobs", ("character_id", 1), ("created_at", -1), ("id", 1),
        why=f"a character's FaceFusion jobs newest first, {_TIES}"),
    _ix("facefusion_jobs", ("status", 1), ("priority", -1), ("created_at", 1), ("id", 1),
        why=f"the jobs of one status in queue order (and the claim), {_TIES}"),
    _ix("generation_batches", ("project_id", 1), ("created_at", -1), ("id", 1),
        why=f"a project's generation batches newest first, {_TIES}"),
    _ix("facefusion_presets", ("name", 1), ("id", 1), why=f"presets by name, {_TIES}"),
    _ix("database_models", ("type", 1), ("name", 1), ("id", 1), why=f"models by type and name, {_TIES}"),
    _ix("database_models", ("name", 1), ("id", 1), why=f"search_models without words: models by name, {_TIES}"),
    _ix("civitai_models", ("type", 1), ("nsfw", 1), ("id", 1), why=f"CivitAI models by type and NSFW flag, {_TIES}"),
    _ix("comfyui_servers", ("name", 1), ("id", 1), why=f"ComfyUI servers by name, {_TIES}"),
)  # fmt: skip
"""One index per paginated list: its equality filter first, then its full sort including the ``id`` tie-breaker
(``tests/db/test_list_plans.py`` shows each list's plan with ``explain``)."""
EXTRA_INDEXES = EXTRA_INDEXES + LIST_INDEXES

ALL_INDEXES: tuple[IndexSpec, ...] = SCHEMA_INDEXES + EXTRA_INDEXES
COLLECTIONS: tuple[str, ...] = tuple(dict.fromkeys(spec.collection for spec in ALL_INDEXES))
"""Every collection with an index: the schema's 13, then the additions (``api_tokens``, ``rate_limits``)."""


async def missing_indexes(database: Database) -> list[IndexSpec]:
    """The indexes of ``ALL_INDEXES`` the database does not have (compared by keys and unique flag)."""
    missing: list[IndexSpec] = []
    for collection in COLLECTIONS:
        existing = {_signature(ix) for ix in await database.list_indexes(collection)}
        missing += [s for s in ALL_INDEXES if s.collection == collection and (s.keys, s.unique) not in existing]
    return missing


def _signature(index: dict[str, object]) -> tuple[tuple[tuple[str, int], ...], bool]:
    keys = index.get("key") or {}
    return tuple((str(k), int(v)) for k, v in dict(keys).items()), bool(index.get("unique", False))  # type: ignore[call-overload]


async def ensure_indexes(database: Database, *, deferred: Collection[int] = ()) -> list[IndexSpec]:
    """Create every missing index but those built by a migration in ``deferred``; return the ones created."""
    created = [spec for spec in await missing_indexes(database) if spec.migration not in deferred]
    for spec in created:
        await create(database, spec)
    return created


async def create(database: Database, spec: IndexSpec) -> None:
    """Build one index (a no-op when it exists)."""
    await database.collection(spec.collection).create_index(list(spec.keys), unique=spec.unique, name=spec.name)
