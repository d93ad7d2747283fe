"""Queueing FaceFusion operations on images (of characters, or of a project's media) and reading the jobs.

A request becomes one queued ``FaceFusionJob`` (one operation, or a batch): images are checked (and http(s) ones
imported into the media store), parameters resolved argument → preset → the character's preferred settings →
defaults (``inputs``), and the job inserted in one write. Anything refused is refused before the first write; an
import made for a job that then cannot be queued is deleted again. Workers (``worker``) run the jobs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from mcp_storyboard.db.media import MEDIA_URI_PREFIX, MediaStore
from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.integrations.facefusion.arguments import check_operation
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.facefusion import FaceFusionJob, JobStatus
from mcp_storyboard.models.facefusion_jobs import (
    FaceFusionJobInput,
    FaceFusionOperation,
)
from mcp_storyboard.repositories.characters import FaceFusionCharacterRepository
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.repositories.facefusion_presets import FaceFusionPresetRepository
from mcp_storyboard.services.facefusion.faces import FaceDataService
from mcp_storyboard.services.facefusion.inputs import (
    Image,
    OperationRequest,
    resolve_image,
    resolve_parameters,
)
from mcp_storyboard.services.common.waiting import poll_until_finished
from mcp_storyboard.services.facefusion.presets import PresetService
from mcp_storyboard.services.facefusion.views import (
    FaceFusionJobView,
    JobPage,
    QueuedJob,
    WaitResult,
    job_uri,
    stored_operations,
)

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories
    from mcp_storyboard.services.media import MediaService

JOB_HINT = "list_facefusion_jobs shows the jobs"

ProgressCallback = Callable[[FaceFusionJob], Awaitable[None]]


class FaceFusionService:
    """FaceFusion jobs, presets (``presets``) and characters' face data (``faces``)."""

    def __init__(self, repos: Repositories, media: MediaService) -> None:
        self.repos = repos
        self.media = media
        self.jobs = FaceFusionJobRepository(repos.database)
        self.characters = FaceFusionCharacterRepository(repos.database)
        self.presets = PresetService(FaceFusionPresetRepository(repos.database))
        self.faces = FaceDataService(self.characters)

    @property
    def _store(self) -> MediaStore:
        return self.repos.database.media

    # -- queueing ----------------------------------------------------------------------------------------------
    async def queue(
        self, requests: Sequence[OperationRequest], *, character_id: str | None = None, preset_id: str | None = None,
        priority: int = 0, batch: bool = False,
    ) -> QueuedJob:
        """Queue one job for ``requests`` (one operation, or a batch when ``batch``).

        Raises:
            NotFoundError: no such character, preset or media file.
            ValidationError: a bad image, parameter, age or priority (naming the field and what is allowed).
            IntegrationError: an http(s) image could not be downloaded.
        """
        if not -100 <= priority <= 100:
            raise ValidationError("priority", f"must be between -100 and 100, not {priority}")
        character = await self._character(character_id)
        preset = await self.presets.usable(preset_id) if preset_id is not None else None
        if preset is not None and not any(r.operation_type == preset.operation_type for r in requests):
            asked = ", ".join(sorted({r.operation_type for r in requests}))
            raise ValidationError("preset_id", f"preset {preset.id} is for {preset.operation_type}, not {asked}",
                                  hint=f"list_facefusion_presets with operation_type={requests[0].operation_type}")
        preferences = character.facefusion_preferred_settings if character is not None else None
        operations: list[FaceFusionOperation] = []
        images: dict[str, Image] = {}
        for n, request in enumerate(requests):
            where = f"operations[{n}]." if batch else ""
            image = await resolve_image(self._store, f"{where}image", request.image,
                                        request.reference_image, character)
            explicit = dict(request.parameters)
            if request.operation_type == "swap":
                source = await resolve_image(self._store, f"{where}source_face",
                                             request.source_face, None, character)
                images.setdefault(source.url, source)
                explicit |= {"source_face_url": source.url, "target_image_url": image.url}
            elif request.source_face is not None:
                raise ValidationError(f"{where}source_face", "applies to swap only")
            images.setdefault(image.url, image)
            parameters = resolve_parameters(request.operation_type, explicit, preset, preferences, where)
            face_age = _face_age(request, character, where)
            operation = FaceFusionOperation(operation_type=request.operation_type, input_image_url=image.url,
                                            parameters=parameters, face_age=face_age)
            _check_runnable(operation, where)
            operations.append(operation)
        project_id = _project_of(character, images.values())
        job_input = FaceFusionJobInput(operations=operations, preset_id=preset.id if preset else None)
        imported = await self._import(project_id, images)
        try:
            job = FaceFusionJob(
                character_id=character.id if character else None, project_id=project_id,
                job_type="batch" if batch else requests[0].operation_type, priority=priority,
                input_data=_with_imports(job_input, imported).model_dump(mode="json"),
            )  # fmt: skip
            await self.jobs.insert(job)
        except BaseException:
            for media_id in imported.values():
                await self._store.delete(media_id.removeprefix(MEDIA_URI_PREFIX))
            raise
        if preset is not None:
            await self.presets.count_use(preset.id)
        return QueuedJob(id=job.id, uri=job_uri(job.id), status=job.status, job_type=job.job_type,
                         position=await self.jobs.queue_position(job), operations=stored_operations(job))

    async def _character(self, character_id: str | None) -> Character | None:
        if character_id is None:
            return None
        character = await self.characters.find(character_id)
        if character is None:
            raise NotFoundError("character", character_id, hint="list_characters shows a project's characters")
        return character

    async def _import(self, project_id: str, images: dict[str, Image]) -> dict[str, str]:
        """Import the http(s) images into the project; their URL → the stored file's URI. All or none."""
        imported: dict[str, str] = {}
        try:
            for url, image in images.items():
                if image.to_import:
                    imported[url] = (await self.media.import_url(project_id, url)).uri
        except BaseException:
            for uri in imported.values():
                await self._store.delete(uri.removeprefix(MEDIA_URI_PREFIX))
            raise
        return imported

    # -- jobs --------------------------------------------------------------------------------------------------
    async def get_job(self, job_id: str) -> FaceFusionJobView:
        """One job, with its queue position while queued.

        Raises:
            NotFoundError: no such job.
        """
        job = await self._job(job_id)
        position = await self.jobs.queue_position(job) if job.status == "queued" else None
        return FaceFusionJobView.of(job, position)

    async def list_jobs(
        self, *, character_id: str | None = None, project_id: str | None = None, status: JobStatus | None = None,
        limit: int | None = None, cursor: str | None = None,
    ) -> JobPage:
        """Jobs newest first, filtered by character, project and status."""
        page = await self.jobs.page_where(character_id=character_id, project_id=project_id, status=status,
                                          limit=limit, cursor=cursor)
        return JobPage(items=[FaceFusionJobView.of(j) for j in page.items], next_cursor=page.next_cursor)

    async def cancel_job(self, job_id: str) -> FaceFusionJobView:
        """Cancel a queued or processing job (a worker running it stops at its next step).

        Raises:
            NotFoundError: no such job.
            InvalidStateError: it already finished.
        """
        await self._job(job_id)
        return FaceFusionJobView.of(await self.jobs.cancel(job_id))

    async def retry_job(self, job_id: str) -> FaceFusionJobView:
        """Queue a failed or cancelled job again with fresh attempts.

        Raises:
            NotFoundError: no such job.
            InvalidStateError: it is queued, processing or completed.
        """
        await self._job(job_id)
        job = await self.jobs.retry(job_id)
        return FaceFusionJobView.of(job, await self.jobs.queue_position(job))

    async def wait_job(self, job_id: str, timeout: float, on_progress: ProgressCallback | None = None) -> WaitResult:
        """Poll a job (with backoff) until it finishes or ``timeout`` seconds pass; ``on_progress`` is called with
        the job each time its status or progress changed.

        Raises:
            NotFoundError: no such job.
            ValidationError: ``timeout`` outside 0–300.
        """
        job, _ = await poll_until_finished(
            lambda: self._job(job_id), finished=lambda j: FaceFusionJobView.of(j).finished,
            state=lambda j: (j.status, j.progress), timeout=timeout, on_progress=on_progress)
        position = await self.jobs.queue_position(job) if job.status == "queued" else None
        view = FaceFusionJobView.of(job, position)
        return WaitResult(finished=view.finished, job=view)

    async def _job(self, job_id: str) -> FaceFusionJob:
        job = await self.jobs.find(job_id)
        if job is None:
            raise NotFoundError("facefusion job", job_id, hint=JOB_HINT)
        return job


def _face_age(request: OperationRequest, character: Character | None, where: str) -> int | None:
    if request.operation_type != "age_adjust":
        if request.current_age is not None:
            raise ValidationError(f"{where}current_age", "applies to age_adjust only")
        return None
    if request.current_age is not None:
        return request.current_age
    preferences = character.facefusion_preferred_settings if character is not None else None
    if preferences is not None and preferences.face_age is not None:
        return preferences.face_age
    raise ValidationError(
        f"{where}current_age", "is needed: FaceFusion changes ages relative to the face's current age (0–100)",
        hint="pass current_age, or set face_age with set_facefusion_preferences",
    )


def _project_of(character: Character | None, images: Iterable[Image]) -> str:
    stored = [i for i in images if i.media_project is not None]
    if character is not None:
        for image in stored:
            if image.media_project != character.project_id:
                raise ValidationError("image", f"{image.url} belongs to project {image.media_project}, not to the "
                                      f"character's project {character.project_id}")
        return character.project_id
    projects = {i.media_project for i in stored}
    if len(projects) == 1:
        return str(projects.pop())
    if len(projects) > 1:
        raise ValidationError("image", "the images belong to different projects", hint="use one project's files")
    raise ValidationError("character_id", "is needed to know the project: the images are not stored files of one",
                          hint="pass character_id, or use a media file of a project")


def _with_imports(job_input: FaceFusionJobInput, imported: dict[str, str]) -> FaceFusionJobInput:
    """The operations with imported URLs replaced by the stored files' URIs."""
    if not imported:
        return job_input
    operations = []
    for op in job_input.operations:
        parameters = {k: imported.get(v, v) if isinstance(v, str) else v for k, v in op.parameters.items()}
        operations.append(op.model_copy(update={"input_image_url": imported.get(op.input_image_url, op.input_image_url),
                                                "parameters": parameters}))
    return job_input.model_copy(update={"operations": operations})


def _check_runnable(operation: FaceFusionOperation, where: str) -> None:
    """Refuse now what the FaceFusion runner would refuse later (a model FaceFusion 3.8.1 lacks, an age change
    it cannot express), so a bad request queues no job."""
    try:
        check_operation(operation)
    except ValidationError as exc:
        if not where:
            raise
        raise ValidationError(f"{where}{exc.field}", exc.message.removeprefix(f"{exc.field}: "), hint=exc.hint) from None
