"""The ComfyUI prompt runner against the fake server over real HTTP: items become files (images, videos, custom
workflows), refusals and failures name the node, and a run that is cancelled, runs out of time or loses its lease
takes its prompt off the server."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import anyio
import httpx2
import pytest

from mcp_storyboard.errors import ComfyUIError, ComfyUIExecutionError, ComfyUINodeErrors
from mcp_storyboard.integrations.comfyui import (
    ComfyUIPromptRunner,
    ComfyUIUnreachable,
    GeneratedFile,
    PollSchedule,
)
from mcp_storyboard.integrations.comfyui.graph import nodes_of
from mcp_storyboard.models.generation import ComfyUIServer, GenerationItem
from tests.fakes.comfyui import Failure, FakeComfyUI, RunningFake, serve_fake_comfyui
from tests.integrations.comfyui.items import (
    empty_image_workflow,
    image_item,
    video_item,
    workflow_item,
)
from tests.media_samples import MP4

FAST = PollSchedule(first=0.001, factor=2.0, most=0.01, queue_check_every=4)


@pytest.fixture
def fake() -> Iterator[RunningFake]:
    with serve_fake_comfyui() as running:
        yield running


def server(fake: RunningFake, api_key: str | None = None) -> ComfyUIServer:
    return ComfyUIServer(name="gpu", url=fake.url, api_key=api_key)


class Submissions:
    """An ``on_submitted`` that records prompt ids and lets a test wait for the first."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.event = anyio.Event()

    async def __call__(self, prompt_id: str) -> None:
        self.ids.append(prompt_id)
        self.event.set()


async def run(fake: RunningFake, item: GenerationItem, runner: ComfyUIPromptRunner | None = None,
              submissions: Submissions | None = None) -> list[GeneratedFile]:
    runner = runner or ComfyUIPromptRunner(poll=FAST)
    return await runner.run(server(fake), item, client_id="worker-1", on_submitted=submissions or Submissions())


async def test_an_image_item_becomes_its_png_with_the_prompt_queued_under_the_workers_client_id(
    fake: RunningFake,
) -> None:
    submissions = Submissions()
    item = image_item()
    files = await run(fake, item, submissions=submissions)
    assert len(files) == 1 and files[0].kind == "image" and files[0].content_type == "image/png"
    assert files[0].data.startswith(b"\x89PNG") and files[0].filename.startswith(item.clip_id)
    [prompt_id] = submissions.ids
    queued = fake.state.history[prompt_id]["prompt"]
    assert queued[3]["client_id"] == "worker-1"
    saved = queued[2][nodes_of(queued[2], "SaveImage")[0]]
    assert saved["inputs"]["filename_prefix"] == f"storyboard/{item.clip_id}"
    requests = fake.state.requests
    assert requests[0] == "POST /prompt" and requests[-1] == "GET /view"
    assert set(requests[1:-1]) == {f"GET /history/{prompt_id}"}


async def test_a_video_item_becomes_an_mp4_video(fake: RunningFake) -> None:
    [file] = await run(fake, video_item())
    assert (file.kind, file.content_type, file.data) == ("video", "video/mp4", MP4)
    assert file.filename.endswith(".mp4")


async def test_a_custom_workflow_runs_with_its_patches(fake: RunningFake) -> None:
    submissions = Submissions()
    item = workflow_item(empty_image_workflow(), [{"node": "Canvas", "input": "width", "value": 96},
                                                  {"node": "2", "input": "filename_prefix", "value": "mine/x"}])
    [file] = await run(fake, item, submissions=submissions)
    graph = fake.state.history[submissions.ids[0]]["prompt"][2]
    assert graph["1"]["inputs"]["width"] == 96 and graph["2"]["inputs"]["filename_prefix"] == "mine/x"
    assert file.kind == "image" and file.filename.startswith("x_")


async def test_a_workflow_patch_that_names_no_node_fails_the_item_before_anything_is_sent(fake: RunningFake) -> None:
    item = workflow_item(empty_image_workflow(), [{"node": "Prompt", "input": "text", "value": "x"}])
    with pytest.raises(ComfyUIError, match="workflow cannot run: workflow_inputs\\[0\\].node: no node has the id or "
                                           "title 'Prompt'. Nodes: 1 'Canvas'"):
        await run(fake, item)
    assert fake.state.requests == []


async def test_a_refused_graph_fails_with_the_node_and_input_and_leaves_nothing_to_clean(fake: RunningFake) -> None:
    submissions = Submissions()
    with pytest.raises(ComfyUINodeErrors) as refused:
        await run(fake, image_item(checkpoint="missing.safetensors"), submissions=submissions)
    [problem] = refused.value.node_errors
    assert (problem["node_id"], problem["class_type"], problem["input"], problem["type"]) == (
        "4", "CheckpointLoaderSimple", "ckpt_name", "value_not_in_list")
    assert submissions.ids == [] and fake.state.requests == ["POST /prompt"]


async def test_a_failure_while_running_names_the_node_and_its_type(fake: RunningFake) -> None:
    fake.state.fail_next = Failure(node_class="VAEDecode", exception_type="RuntimeError", exception_message="bad vae")
    with pytest.raises(ComfyUIExecutionError, match="at node 8 \\(VAEDecode\\): RuntimeError: bad vae") as raised:
        await run(fake, image_item())
    assert (raised.value.node_id, raised.value.node_type) == ("8", "VAEDecode")
    assert "GET /view" not in fake.state.requests


async def test_a_prompt_that_ends_without_outputs_is_an_error(fake: RunningFake) -> None:
    fake.state.no_outputs_next = True
    with pytest.raises(ComfyUIError, match="without an image or video"):
        await run(fake, image_item())


async def test_cancelling_a_run_whose_prompt_waits_deletes_it_from_the_queue() -> None:
    with serve_fake_comfyui(FakeComfyUI(runs_after_polls=None)) as fake:
        submissions = Submissions()
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(run, fake, image_item(), None, submissions)
                await submissions.event.wait()
                tasks.cancel_scope.cancel()
        assert fake.state.pending == [] and fake.state.interrupted == []
        assert "POST /queue" in fake.state.requests and submissions.ids[0] not in fake.state.history


async def test_cancelling_a_run_whose_prompt_runs_interrupts_that_prompt() -> None:
    with serve_fake_comfyui(FakeComfyUI(runs_after_polls=0, hang=True)) as fake:
        submissions = Submissions()
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(run, fake, image_item(), None, submissions)
                while fake.state.running is None:
                    await anyio.sleep(0.005)
                tasks.cancel_scope.cancel()
        [prompt_id] = submissions.ids
        assert fake.state.interrupted == [prompt_id]
        assert fake.state.history[prompt_id]["status"]["messages"][-1][0] == "execution_interrupted"


async def test_a_run_past_its_deadline_raises_timeout_and_interrupts_its_prompt() -> None:
    with serve_fake_comfyui(FakeComfyUI(runs_after_polls=0, hang=True)) as fake:
        submissions = Submissions()
        runner = ComfyUIPromptRunner(poll=FAST, timeout_s=0.3)
        with pytest.raises(TimeoutError, match="did not finish prompt .* within 0.3 s"):
            await run(fake, image_item(), runner, submissions)
        assert fake.state.interrupted == submissions.ids and fake.state.running is None


async def test_a_failing_on_submitted_takes_the_prompt_back_and_propagates() -> None:
    with serve_fake_comfyui(FakeComfyUI(runs_after_polls=None)) as fake:
        async def lease_lost(prompt_id: str) -> None:
            raise LookupError("lease lost")

        with pytest.raises(LookupError, match="lease lost"):
            await ComfyUIPromptRunner(poll=FAST).run(server(fake), image_item(), client_id="w",
                                                     on_submitted=lease_lost)
        assert fake.state.pending == [] and fake.state.history == {}


async def test_a_prompt_the_server_forgot_fails_instead_of_waiting_for_the_deadline() -> None:
    with serve_fake_comfyui(FakeComfyUI(runs_after_polls=None)) as fake:
        async def forget(prompt_id: str) -> None:
            fake.state.pending.clear()  # as after a restart: not queued, not running, no history

        with anyio.fail_after(10), pytest.raises(ComfyUIError, match="no longer knows prompt"):
            await ComfyUIPromptRunner(poll=FAST).run(server(fake), image_item(), client_id="w", on_submitted=forget)
        assert "GET /queue" in fake.state.requests


async def test_a_server_that_is_down_is_unreachable(fake: RunningFake) -> None:
    fake.stop()
    with pytest.raises(ComfyUIUnreachable):
        await run(fake, image_item())


async def test_the_servers_credential_goes_in_every_request_header_and_in_no_error(fake: RunningFake) -> None:
    runner = ComfyUIPromptRunner(poll=FAST)
    files = await runner.run(server(fake, api_key="sk-secret-1"), image_item(), client_id="w",
                             on_submitted=Submissions())
    assert files and set(fake.state.authorizations) == {"Bearer sk-secret-1"}
    with pytest.raises(ComfyUINodeErrors) as refused:
        await runner.run(server(fake, api_key="sk-secret-1"), image_item(checkpoint="nope"), client_id="w",
                         on_submitted=Submissions())
    assert "sk-secret-1" not in str(refused.value) and "sk-secret-1" not in repr(refused.value.node_errors)


@pytest.mark.parametrize(
    ("failure", "cleaned"),
    [(httpx2.ConnectError("refused"), False), (httpx2.ConnectTimeout("slow"), False),
     (httpx2.ReadTimeout("quiet"), True), (httpx2.RemoteProtocolError("dropped"), True)],
)
async def test_a_submit_that_may_have_reached_the_server_is_taken_back_and_one_that_did_not_is_not(
    failure: httpx2.TransportError, cleaned: bool
) -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/api/prompt":
            raise failure
        return httpx2.Response(200, json={"queue_running": [], "queue_pending": []})

    runner = ComfyUIPromptRunner(poll=FAST, transport=httpx2.MockTransport(handler))
    with pytest.raises(ComfyUIUnreachable) as raised:
        await runner.run(ComfyUIServer(name="gpu", url="http://gpu:8188"), image_item(), client_id="w",
                         on_submitted=Submissions())
    assert raised.value.may_have_arrived is cleaned
    assert seen == (["POST /api/prompt", "POST /api/queue", "GET /api/queue"] if cleaned else ["POST /api/prompt"])


async def test_a_run_cancelled_while_its_submit_is_in_flight_still_takes_the_prompt_back() -> None:
    seen: list[str] = []
    submit_arrived = anyio.Event()

    async def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/api/prompt":
            submit_arrived.set()
            await anyio.sleep_forever()  # the server took the request and has not answered yet
        return httpx2.Response(200, json={"queue_running": [], "queue_pending": []})

    runner = ComfyUIPromptRunner(poll=FAST, transport=httpx2.MockTransport(handler))
    submissions = Submissions()
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(partial(runner.run, ComfyUIServer(name="gpu", url="http://gpu:8188"), image_item(),
                                     client_id="w", on_submitted=submissions))
            await submit_arrived.wait()
            tasks.cancel_scope.cancel()
    assert seen == ["POST /api/prompt", "POST /api/queue", "GET /api/queue"] and submissions.ids == []
