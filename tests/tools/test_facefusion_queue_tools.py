"""FaceFusion operation tools through a real MCP client: each queues one job with its parameters resolved
argument → preset → the character's preferences → defaults, imports http(s) images, and refuses bad input with
no job written."""

from __future__ import annotations

from typing import Any, get_args

import httpx2

from mcp_storyboard.integrations.media_fetch import MediaFetcher
from mcp_storyboard.models.facefusion import FaceEditorValues
from mcp_storyboard.models.facefusion_params import EditorKey
from tests.media_samples import png
from tests.tools.conftest import ToolClient
from tests.tools.facefusion_world import faces, seed_preset, stored_job


def test_the_editor_keys_are_the_editor_value_fields() -> None:
    assert list(get_args(EditorKey)) == list(FaceEditorValues.model_fields)


def operation(job: dict[str, Any], n: int = 0) -> dict[str, Any]:
    return dict(job["input_data"]["operations"][n])


async def test_enhance_face_queues_a_job_with_the_default_parameters(tools: ToolClient) -> None:
    w = await faces(tools.services)
    queued = await tools.call("enhance_face", image=w.image)
    assert (queued["status"], queued["job_type"], queued["position"]) == ("queued", "enhance", 0)
    assert queued["uri"] == f"storyboard://facefusion-jobs/{queued['id']}"
    job = await stored_job(tools.services, queued["id"])
    assert (job["project_id"], job["character_id"], job["status"], job["priority"]) == (w.project_id, None,
                                                                                       "queued", 0)
    assert operation(job) == {"operation_type": "enhance", "input_image_url": w.image, "face_age": None,
                              "parameters": {"enhancement_model": "gfpgan_1.4", "face_enhancer_blend": 1.0}}
    assert queued["operations"] == job["input_data"]["operations"]
    # A bare media id names the same file.
    again = await tools.call("enhance_face", image=w.image.rsplit("/", 1)[1], priority=5)
    assert operation(await stored_job(tools.services, again["id"]))["input_image_url"] == w.image


async def test_parameters_resolve_argument_then_preset_then_character_then_default(tools: ToolClient) -> None:
    w = await faces(tools.services)
    await tools.call("set_facefusion_preferences", character_id=w.character_id,
                     settings={"enhancement_model": "codeformer", "face_enhancer_blend": 0.3, "face_age": 40})
    preset = await tools.call("create_facefusion_preset", name="Crisp", operation_type="enhance",
                              parameters={"face_enhancer_blend": 0.6})
    character = {"image": w.image, "character_id": w.character_id}

    async def parameters(**arguments: Any) -> dict[str, Any]:
        queued = await tools.call("enhance_face", **arguments)
        return dict(operation(await stored_job(tools.services, queued["id"]))["parameters"])

    assert await parameters(image=w.image) == {"enhancement_model": "gfpgan_1.4", "face_enhancer_blend": 1.0}
    assert await parameters(**character) == {"enhancement_model": "codeformer", "face_enhancer_blend": 0.3}
    # The preset is stored normalised (its model defaulted to gfpgan_1.4): all of it beats the character.
    assert await parameters(**character, preset_id=preset["id"]) == {"enhancement_model": "gfpgan_1.4",
                                                                     "face_enhancer_blend": 0.6}
    assert await parameters(**character, preset_id=preset["id"], face_enhancer_blend=0.9) == {
        "enhancement_model": "gfpgan_1.4", "face_enhancer_blend": 0.9}
    assert await parameters(**character, enhancement_model="gpen_bfr_512") == {
        "enhancement_model": "gpen_bfr_512", "face_enhancer_blend": 0.3}
    # Only the keys of the operation apply: the character's face_age is not an enhance parameter.
    assert (await tools.call("get_facefusion_preset", preset_id=preset["id"]))["use_count"] == 2


async def test_age_adjust_takes_the_current_age_from_the_argument_or_the_character(tools: ToolClient) -> None:
    w = await faces(tools.services)
    text = await tools.refused("adjust_face_age", image=w.image, character_id=w.character_id, target_age=60)
    assert text.startswith("[invalid-argument] current_age: is needed") and "face_age" in text, text
    await tools.call("set_facefusion_preferences", character_id=w.character_id, settings={"face_age": 30})
    from_character = await tools.call("adjust_face_age", reference_image=1, character_id=w.character_id,
                                      target_age=60)
    op = operation(await stored_job(tools.services, from_character["id"]))
    assert (op["face_age"], op["input_image_url"], op["parameters"]) == (
        30, w.image, {"target_age": 60, "age_adjustment_blend": 1.0})
    given = await tools.call("adjust_face_age", image=w.image, character_id=w.character_id, target_age=8,
                             current_age=35, age_adjustment_blend=0.5)
    op = operation(await stored_job(tools.services, given["id"]))
    assert (op["face_age"], op["parameters"]) == (35, {"target_age": 8, "age_adjustment_blend": 0.5})


async def test_swap_edit_mask_and_detect_store_their_own_parameters(tools: ToolClient) -> None:
    w = await faces(tools.services)
    await tools.call("set_facefusion_preferences", character_id=w.character_id,
                     settings={"face_swapper_model": "simswap_256", "face_editor_head_yaw": 10,
                               "face_selector_mode": "many", "face_detector_model": "retinaface",
                               "face_detector_size": "320x320"})
    c = {"character_id": w.character_id}
    swap = await tools.call("swap_face", reference_image=0, source_face=w.image, **c)
    assert operation(await stored_job(tools.services, swap["id"])) ["parameters"] == {
        "source_face_url": w.image, "target_image_url": w.other, "face_swapper_model": "simswap_256"}
    edit = await tools.call("edit_face_expression", image=w.image, values={"face_editor_mouth_smile": 40}, **c)
    assert operation(await stored_job(tools.services, edit["id"]))["parameters"] == {
        "face_editor_mouth_smile": 40, "face_editor_head_yaw": 10}
    mask = await tools.call("mask_face", image=w.image, face_mask_types=["box", "region"],
                            face_mask_regions=["nose"], **c)
    assert operation(await stored_job(tools.services, mask["id"]))["parameters"] == {
        "face_mask_types": ["box", "region"], "face_selector_mode": "many", "face_mask_regions": ["nose"]}
    detect = await tools.call("detect_faces", image=w.image, **c)
    assert (detect["job_type"], operation(await stored_job(tools.services, detect["id"]))["parameters"]) == (
        "detect", {"face_detector_model": "retinaface", "face_detector_size": "320x320"})


async def test_an_http_image_is_imported_into_the_characters_project(tools: ToolClient) -> None:
    w = await faces(tools.services)

    def cdn(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/missing.png":
            return httpx2.Response(404)
        return httpx2.Response(200, headers={"content-type": "image/png"}, content=png(3))

    async def dns(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    tools.services.media.fetcher = MediaFetcher(transport=httpx2.MockTransport(cdn), resolve=dns)
    queued = await tools.call("enhance_face", image="https://cdn.example/face.png", character_id=w.character_id)
    url = operation(await stored_job(tools.services, queued["id"]))["input_image_url"]
    assert url.startswith("storyboard://media/")
    info = await tools.services.database.media.info(url.rsplit("/", 1)[1])
    assert (info.project_id, info.content_type) == (w.project_id, "image/png")
    # A download that fails queues nothing and stores nothing; an http image without a project is refused first.
    await tools.refused("enhance_face", image="https://cdn.example/missing.png", character_id=w.character_id)
    text = await tools.refused("enhance_face", image="https://cdn.example/face.png")
    assert text.startswith("[invalid-argument] character_id: is needed"), text
    # In a batch, the images imported before a failing download are deleted again.
    text = await tools.refused("run_facefusion_batch", character_id=w.character_id, operations=[
        {"operation_type": "enhance", "image": "https://cdn.example/other.png"},
        {"operation_type": "enhance", "image": "https://cdn.example/missing.png"}])
    assert "404" in text or "missing.png" in text, text


async def test_a_batch_is_one_job_whose_preset_applies_to_its_own_type(tools: ToolClient) -> None:
    w = await faces(tools.services)
    preset = await tools.call("create_facefusion_preset", name="Soft", operation_type="enhance",
                              parameters={"face_enhancer_blend": 0.4})
    queued = await tools.call("run_facefusion_batch", character_id=w.character_id, preset_id=preset["id"], operations=[
        {"operation_type": "enhance", "reference_image": 0},
        {"operation_type": "age_adjust", "image": w.image, "current_age": 20, "parameters": {"target_age": 70}},
        {"operation_type": "swap", "image": w.image, "source_face": w.other},
    ], priority=3)
    job = await stored_job(tools.services, queued["id"])
    assert (job["job_type"], job["priority"], job["input_data"]["preset_id"]) == ("batch", 3, preset["id"])
    ops = job["input_data"]["operations"]
    assert [o["operation_type"] for o in ops] == ["enhance", "age_adjust", "swap"]
    assert ops[0]["parameters"]["face_enhancer_blend"] == 0.4 and ops[1]["face_age"] == 20
    assert ops[2]["parameters"]["source_face_url"] == w.other
    assert (await tools.call("get_facefusion_preset", preset_id=preset["id"]))["use_count"] == 1


async def test_queue_position_follows_priority_then_age(tools: ToolClient) -> None:
    w = await faces(tools.services)
    first = await tools.call("detect_faces", image=w.image)
    second = await tools.call("detect_faces", image=w.image)
    urgent = await tools.call("detect_faces", image=w.image, priority=10)
    assert [first["position"], second["position"], urgent["position"]] == [0, 1, 0]
    got = [(await tools.call("get_facefusion_job", job_id=j["id"]))["position"] for j in (first, second, urgent)]
    assert got == [1, 2, 0]


async def test_bad_operation_input_names_the_field_and_queues_nothing(tools: ToolClient) -> None:
    w = await faces(tools.services)
    other = await faces(tools.services, "Elsewhere")
    private = await seed_preset(tools.services, "Theirs", user_id="someone-else")
    mask_preset = await seed_preset(tools.services, "Aged", operation_type="age_adjust",
                                    parameters={"target_age": 30})
    c = {"character_id": w.character_id}
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("enhance_face", {}, "[invalid-argument] image: is required"),
        ("enhance_face", {"image": "ftp://x/y.png"}, "[invalid-argument] image: 'ftp://x/y.png' is not"),
        ("enhance_face", {"image": "ghost"}, "[not-found] media 'ghost' does not exist"),
        ("enhance_face", {"image": w.image, "reference_image": 0, **c}, "[invalid-argument] image: give either"),
        ("enhance_face", {"reference_image": 0}, "[invalid-argument] reference_image: needs character_id"),
        ("enhance_face", {"reference_image": 5, **c}, "[invalid-argument] reference_image: index 5 is out of range"),
        ("enhance_face", {"image": w.image, "character_id": "ghost"}, "[not-found] character 'ghost'"),
        ("enhance_face", {"image": other.image, **c}, "[invalid-argument] image: storyboard://media/"),
        ("enhance_face", {"image": w.image, "enhancement_model": "gfpgan_9"}, "[invalid-argument] enhancement_model"),
        ("enhance_face", {"image": w.image, "face_enhancer_blend": 1.5}, "[invalid-argument] face_enhancer_blend"),
        ("enhance_face", {"image": w.image, "priority": 101}, "[invalid-argument] priority"),
        ("enhance_face", {"image": w.image, "preset_id": private}, "[not-found] facefusion preset"),
        ("enhance_face", {"image": w.image, "preset_id": mask_preset}, "[invalid-argument] preset_id: preset"),
        ("adjust_face_age", {"image": w.image, "target_age": 101, "current_age": 3}, "[invalid-argument] target_age"),
        ("adjust_face_age", {"image": w.image, "target_age": 5, "current_age": -1}, "[invalid-argument] current_age"),
        ("swap_face", {"image": w.image, "source_face": "nope nope"}, "[invalid-argument] source_face"),
        ("swap_face", {"image": w.image, "source_face": w.other, "face_swapper_model": "x"},
         "[invalid-argument] face_swapper_model"),
        # The schema's inswapper_256 is refused at queue time: FaceFusion 3.8.1 has no such model.
        ("swap_face", {"image": w.image, "source_face": w.other, "face_swapper_model": "inswapper_256"},
         "[invalid-argument] face_swapper_model: 'inswapper_256' is not a FaceFusion 3.8.1 model"),
        ("run_facefusion_batch", {**c, "operations": [{"operation_type": "swap", "image": w.image, "source_face": w.other,
                                                       "parameters": {"face_swapper_model": "inswapper_256"}}]},
         "[invalid-argument] operations[0].face_swapper_model: 'inswapper_256' is not"),
        ("edit_face_expression", {"image": w.image}, "at least one face_editor_* value"),
        ("edit_face_expression", {"image": w.image, "values": {"face_editor_mouth_smile": 101}},
         "[invalid-argument] values.face_editor_mouth_smile"),
        ("edit_face_expression", {"image": w.image, "values": {"grin": 5}},
         "[invalid-argument] values.grin.[key]: Input should be 'face_editor_eyebrow_direction'"),
        ("mask_face", {"image": w.image, "face_mask_types": ["halo"]}, "[invalid-argument] face_mask_types"),
        ("detect_faces", {"image": w.image, "face_detector_size": "320x320"}, "face_detector_size '640x640'"),
        ("run_facefusion_batch", {**c, "operations": []}, "[invalid-argument] operations"),
        ("run_facefusion_batch", {**c, "operations": [{"operation_type": "enhance", "image": w.image},
                                                      {"operation_type": "detect"}]},
         "[invalid-argument] operations[1].image: is required"),
        ("run_facefusion_batch", {**c, "operations": [{"operation_type": "age_adjust", "image": w.image,
                                                       "parameters": {"target_age": 9}}]},
         "[invalid-argument] operations[0].current_age: is needed"),
        ("run_facefusion_batch", {**c, "operations": [{"operation_type": "enhance", "image": w.image,
                                                       "parameters": {"face_enhancer_blend": 2}}]},
         "[invalid-argument] operations[0].face_enhancer_blend"),
        ("run_facefusion_batch", {**c, "operations": [{"operation_type": "detect", "image": w.image,
                                                       "parameters": {"blur": 1}}]},
         "[invalid-argument] operations[0].parameters.blur: is not a parameter of detect"),
        ("run_facefusion_batch", {**c, "operations": [{"operation_type": "detect", "image": w.image,
                                                       "source_face": w.image}]},
         "[invalid-argument] operations[0].source_face: applies to swap only"),
    ]
    for name, arguments, expected in cases:
        text = await tools.refused(name, **arguments)
        assert expected in text, (name, arguments, text)
    assert await tools.services.database.collection("facefusion_jobs").count_documents({}) == 0
