"""The FaceFusion CLI runner end to end against the strict fake ``facefusion.py`` (real 3.8.1 argument names and
ranges), on the embedded database's media store: every operation type, inputs from the store and over http,
timeouts, failures, a missing output, cancellation, and temporary files removed every time."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.integrations.facefusion.runner import FaceFusionCliRunner
from mcp_storyboard.integrations.media_fetch import MediaFetcher
from mcp_storyboard.models.facefusion_jobs import FaceFusionOperation, OperationResult
from tests.integrations.facefusion.conftest import FAKE_FACEFUSION, FakeRuns, is_gone
from tests.media_samples import JPEG, MP3, png

EMBEDDED = pytest.mark.parametrize("database", ["embedded-pymongo", "embedded-motor"], indirect=True)
EMBEDDED_ONE = pytest.mark.parametrize("database", ["embedded-pymongo"], indirect=True)
PROJECT = "p-ff"
FACE = png(3, 2)
Runner = Callable[..., FaceFusionCliRunner]


async def stored(database: Database, data: bytes = FACE, content_type: str = "image/png") -> str:
    info = await database.media.put(data, content_type=content_type, filename="face", project_id=PROJECT)
    return f"storyboard://media/{info.id}"


def op(kind: str, url: str, face_age: int | None = None, **parameters: Any) -> FaceFusionOperation:
    return FaceFusionOperation(operation_type=kind, input_image_url=url, parameters=parameters,  # type: ignore[arg-type]
                               face_age=face_age)


async def run(runner: FaceFusionCliRunner, operation: FaceFusionOperation, runs: FakeRuns, index: int = 0) -> OperationResult:
    return await runner.run_operation(operation, index=index, project_id=PROJECT, report=runs.report)


def after(argv: list[str], flag: str) -> list[str]:
    """The values following ``flag`` in ``argv``."""
    start = argv.index(flag) + 1
    flags = [i for i in range(start, len(argv)) if argv[i].startswith("--") or argv[i] in ("-s", "-t", "-o")]
    end = flags[0] if flags else len(argv)
    return argv[start:end]


CASES = [
    ("enhance", {"enhancement_model": "gpen_bfr_512", "face_enhancer_blend": 0.7}, None,
     ["face_enhancer"], {"--face-enhancer-model": ["gpen_bfr_512"], "--face-enhancer-blend": ["70"]}),
    ("age_adjust", {"target_age": 25, "age_adjustment_blend": 1.0}, 61,
     ["age_modifier"], {"--age-modifier-model": ["fran"], "--age-modifier-direction": ["-36"]}),
    ("edit", {"face_editor_mouth_smile": 63, "face_editor_head_pitch": -20}, None,
     ["face_editor"], {"--face-editor-mouth-smile": ["0.65"], "--face-editor-head-pitch": ["-0.20"]}),
    ("mask", {"face_mask_types": ["box", "occlusion"], "face_mask_blur": 0.5, "face_selector_mode": "all"}, None,
     ["face_debugger"], {"--face-debugger-items": ["face-mask"], "--face-mask-types": ["box", "occlusion"],
                         "--face-mask-blur": ["0.50"], "--face-selector-mode": ["many"]}),
    ("detect", {"face_detector_model": "yoloface", "face_detector_size": "640x640"}, None,
     ["face_debugger"], {"--face-debugger-items": ["bounding-box", "face-landmark-5/68"],
                         "--face-detector-model": ["yolo_face"], "--face-detector-size": ["640x640"]}),
]


@EMBEDDED
@pytest.mark.parametrize(("kind", "parameters", "face_age", "processors", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_each_operation_runs_facefusion_with_its_real_arguments_and_stores_the_output(
    database: Database, make_runner: Runner, fake_runs: FakeRuns, kind: str, parameters: dict, face_age: int | None,
    processors: list[str], expected: dict[str, list[str]],
) -> None:
    result = await run(make_runner(), op(kind, await stored(database), face_age, **parameters), fake_runs, index=3)

    assert result.success, result.error
    assert (result.operation_index, result.operation_type, result.error) == (3, kind, None)
    argv = fake_runs.argv()  # the fake parsed these strictly: a wrong name or value would have failed the run
    assert argv[0] == "headless-run" and after(argv, "--processors") == processors
    assert {flag: after(argv, flag) for flag in expected} == expected
    assert fake_runs.runs()[0]["cwd"] == str(FAKE_FACEFUSION)  # FaceFusion resolves its processors from there
    info, data = await database.media.get(str(result.output_media_id))
    assert result.output_url == f"storyboard://media/{info.id}"
    assert (data, info.content_type, info.project_id, info.filename) == (FACE, "image/png", PROJECT, f"{kind}-3.png")
    assert fake_runs.reports[:4] == [5.0, 10.0, 50.0, 100.0] and fake_runs.reports == sorted(fake_runs.reports)
    assert fake_runs.leftovers() == []


@EMBEDDED_ONE
async def test_a_swap_reads_the_source_face_over_http_and_the_target_from_the_store(
    database: Database, make_runner: Runner, fake_runs: FakeRuns, image_server: str
) -> None:
    target = await stored(database, JPEG, "image/jpeg")
    swap = op("swap", target, source_face_url=f"{image_server}/face.png", target_image_url=target,
              face_swapper_model="inswapper_128")
    result = await run(make_runner(fetcher=MediaFetcher(allow_private=True)), swap, fake_runs)

    assert result.success, result.error
    argv = fake_runs.argv()
    assert after(argv, "--processors") == ["face_swapper"] and after(argv, "--face-swapper-model") == ["inswapper_128"]
    assert after(argv, "-s")[0].endswith("/source.png") and after(argv, "-t")[0].endswith("/target.jpg")
    info, data = await database.media.get(str(result.output_media_id))
    assert (data, info.content_type, info.filename) == (JPEG, "image/jpeg", "swap-0.jpg")  # the target's format
    assert fake_runs.leftovers() == []


@EMBEDDED_ONE
async def test_an_http_input_on_a_private_address_is_refused_by_default_and_facefusion_never_runs(
    database: Database, make_runner: Runner, fake_runs: FakeRuns, image_server: str
) -> None:
    result = await run(make_runner(), op("enhance", f"{image_server}/face.png"), fake_runs)
    assert not result.success
    assert result.error is not None and result.error.startswith("input_image_url: ")
    assert "is a loopback address" in result.error and "STORYBOARD_MEDIA_ALLOW_PRIVATE" in result.error
    assert fake_runs.runs() == [] and fake_runs.leftovers() == []


@EMBEDDED_ONE
async def test_a_run_past_the_timeout_is_killed_and_fails_with_its_stderr(
    database: Database, make_runner: Runner, fake_runs: FakeRuns
) -> None:
    runner = make_runner(env={"FAKE_FACEFUSION_SLEEP": "120", "FAKE_FACEFUSION_CHILD": "1"}, timeout_s=1.5)
    result = await run(runner, op("enhance", await stored(database)), fake_runs)

    assert not result.success and result.error is not None
    assert result.error.startswith("FaceFusion did not finish within 1.5 s and was stopped")
    await whole_group_gone(fake_runs)  # the whole process group, not only FaceFusion
    assert fake_runs.leftovers() == []


@EMBEDDED_ONE
async def test_a_non_zero_exit_fails_with_facefusions_stderr_tail_and_no_secrets(
    database: Database, make_runner: Runner, fake_runs: FakeRuns
) -> None:
    failure = "downloading from https://user:hunter2@hf.example/model.onnx failed; db mongodb://app:s3cr3t@db:27017"
    runner = make_runner(env={"FAKE_FACEFUSION_FAIL": failure, "MONGODB_URI": "mongodb://app:s3cr3t@db:27017",
                              "HF_TOKEN": "hf_abcdefgh"})
    result = await run(runner, op("enhance", await stored(database)), fake_runs)

    assert not result.success and result.error is not None
    assert result.error.startswith("FaceFusion exited with code 1; FaceFusion said:\n")
    assert "[FACEFUSION.CORE] downloading from https://***@hf.example/model.onnx failed" in result.error
    assert "hunter2" not in result.error and "s3cr3t" not in result.error
    env = fake_runs.runs()[0]["env"]  # FaceFusion is not given our secrets at all
    assert "MONGODB_URI" not in env and "HF_TOKEN" not in env and "PATH" in env
    assert fake_runs.leftovers() == []


@EMBEDDED_ONE
async def test_a_run_that_exits_normally_without_an_output_file_fails(
    database: Database, make_runner: Runner, fake_runs: FakeRuns
) -> None:
    result = await run(make_runner(env={"FAKE_FACEFUSION_NO_OUTPUT": "1"}), op("enhance", await stored(database)), fake_runs)
    assert not result.success and result.error is not None
    assert result.error.startswith("FaceFusion exited normally but wrote no output file; FaceFusion said:\n")
    assert "finalizing image" in result.error and "processing: 100%" in result.error  # the bar's last state only
    assert "processing:   0%" not in result.error
    assert (await database.media.list(project_id=PROJECT)).items[0].filename == "face"  # nothing else stored
    assert fake_runs.leftovers() == []


@EMBEDDED_ONE
async def test_cancelling_a_run_kills_facefusion_removes_its_files_and_re_raises(
    database: Database, make_runner: Runner, fake_runs: FakeRuns
) -> None:
    runner = make_runner(env={"FAKE_FACEFUSION_SLEEP": "120", "FAKE_FACEFUSION_CHILD": "1"})
    task = asyncio.ensure_future(run(runner, op("enhance", await stored(database)), fake_runs))
    with anyio.fail_after(60):
        while not fake_runs.runs():
            await anyio.sleep(0.05)
    assert fake_runs.leftovers() != []  # the run's directory exists while FaceFusion runs
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await whole_group_gone(fake_runs)
    assert fake_runs.leftovers() == []


@EMBEDDED_ONE
@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("gone", "media 'gone' does not exist"),
        ("audio", "input_image_url: is audio/mpeg; FaceFusion reads only these images"),
        ("model", "face_swapper_model: 'inswapper_256' is not a FaceFusion 3.8.1 model"),
        ("no age", "face_age: an age adjustment needs the face's current age"),
    ],
)
async def test_inputs_facefusion_cannot_take_fail_the_operation_before_it_runs(
    database: Database, make_runner: Runner, fake_runs: FakeRuns, case: str, fragment: str
) -> None:
    face, audio = await stored(database), await stored(database, MP3, "audio/mpeg")
    operation = {
        "gone": op("enhance", "storyboard://media/gone"),
        "audio": op("enhance", audio),
        "model": op("swap", face, source_face_url=face, target_image_url=face, face_swapper_model="inswapper_256"),
        "no age": op("age_adjust", face, target_age=30),
    }[case]
    result = await run(make_runner(), operation, fake_runs)
    assert not result.success and result.error is not None and fragment in result.error
    assert fake_runs.runs() == [] and fake_runs.leftovers() == []


@EMBEDDED_ONE
async def test_a_python_that_does_not_exist_fails_the_run_saying_so(
    database: Database, make_runner: Runner, fake_runs: FakeRuns
) -> None:
    result = await run(make_runner(python="/nonexistent/python3"), op("enhance", await stored(database)), fake_runs)
    assert not result.success and result.error is not None
    assert result.error.startswith(f"FaceFusion could not be started (/nonexistent/python3 in {FAKE_FACEFUSION})")
    assert fake_runs.leftovers() == []


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--face-enhancer-blend", "0.8"], "argument --face-enhancer-blend: invalid int value: '0.8'"),
        (["--face-enhancer-blend", "101"], "argument --face-enhancer-blend: invalid choice: 101"),
        (["--face-editor-mouth-smile", "0.37"], "argument --face-editor-mouth-smile: invalid choice: 0.37"),
        (["--face-swapper-model", "inswapper_256"], "argument --face-swapper-model: invalid choice: 'inswapper_256'"),
        (["--face-detector-model", "yoloface"], "argument --face-detector-model: invalid choice: 'yoloface'"),
        (["--face-detector-size", "320x320"], "argument --face-detector-size: invalid choice: '320x320'"),
        (["--age-modifier-direction", "-101"], "argument --age-modifier-direction: invalid choice: -101"),
        (["--face-selector-mode", "all"], "argument --face-selector-mode: invalid choice: 'all'"),
        (["--face-enhancer-strength", "3"], "unrecognized arguments: --face-enhancer-strength 3"),
    ],
)
def test_the_fake_refuses_what_facefusions_parser_refuses(arguments: list[str], fragment: str) -> None:
    fake = subprocess.run([sys.executable, str(FAKE_FACEFUSION / "facefusion.py"), "headless-run", *arguments],
                          cwd=FAKE_FACEFUSION, capture_output=True, text=True, timeout=60)
    assert fake.returncode == 2 and fragment in fake.stderr


@pytest.fixture
def image_server() -> Iterator[str]:
    """An http server on 127.0.0.1 serving a PNG face at any path."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(FACE)))
            self.end_headers()
            self.wfile.write(FACE)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def whole_group_gone(fake_runs: FakeRuns) -> None:
    """Wait until the fake and the child it started have exited. SIGKILL to their process group lands a moment
    after the call, so this polls (the limit is a safety net, not a timing)."""
    (started,) = fake_runs.runs()
    with anyio.fail_after(30):
        while not (is_gone(started["pid"]) and is_gone(started["child_pid"])):
            await anyio.sleep(0.05)
