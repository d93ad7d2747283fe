"""The argument mapping (pure): the schema's units and names become FaceFusion 3.8.1's, and an operation FaceFusion
could not run is refused at queue time naming the field and the allowed values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.integrations.facefusion import choices
from mcp_storyboard.integrations.facefusion.arguments import (
    age_direction,
    blend_percent,
    check_operation,
    command_line,
    editor_value,
    plan_operation,
)
from mcp_storyboard.models.facefusion_jobs import FaceFusionOperation

IMAGE = "storyboard://media/m1"


def operation(kind: str, face_age: int | None = None, url: str = IMAGE, **parameters: Any) -> FaceFusionOperation:
    return FaceFusionOperation(operation_type=kind, input_image_url=url, parameters=parameters,  # type: ignore[arg-type]
                               face_age=face_age)


def options(op: FaceFusionOperation) -> dict[str, list[str]]:
    """The step's options as {flag: values}."""
    found: dict[str, list[str]] = {}
    flag = ""
    for word in plan_operation(op).options:
        if word.startswith("--"):
            flag = word
            found[flag] = []
        else:
            found[flag].append(word)
    return found


@pytest.mark.parametrize(("blend", "percent"), [(0.0, 0), (0.004, 0), (0.005, 1), (0.8, 80), (0.555, 56), (1.0, 100)])
def test_blends_become_whole_percentages(blend: float, percent: int) -> None:
    assert blend_percent(blend) == percent


@pytest.mark.parametrize(("value", "text"), [(0, "0.00"), (100, "1.00"), (-100, "-1.00"), (37, "0.35"), (38, "0.40"),
                                             (-37, "-0.35"), (-2, "0.00"), (3, "0.05"), (55, "0.55")])
def test_editor_values_become_floats_on_facefusions_grid(value: int, text: str) -> None:
    # FaceFusion's parser only takes -1.0..1.0 in steps of 0.05: 0.37 would be refused, 0.35 is taken.
    assert editor_value(value) == text


@pytest.mark.parametrize(("target", "face", "blend", "direction"),
                         [(60, 30, 1.0, 30), (20, 45, 1.0, -25), (40, 40, 1.0, 0), (100, 0, 1.0, 100),
                          (0, 100, 1.0, -100), (60, 30, 0.5, 15), (20, 45, 0.5, -13), (80, 20, 0.0, 0)])
def test_the_target_age_becomes_a_relative_direction_from_the_faces_age(
    target: int, face: int, blend: float, direction: int
) -> None:
    assert age_direction(target, face, blend) == direction


def test_enhance_runs_the_face_enhancer_with_an_integer_blend() -> None:
    step = plan_operation(operation("enhance", enhancement_model="codeformer", face_enhancer_blend=0.65))
    assert step.processors == ("face_enhancer",)
    assert options(operation("enhance", enhancement_model="codeformer", face_enhancer_blend=0.65)) == {
        "--face-enhancer-model": ["codeformer"], "--face-enhancer-blend": ["65"]}
    assert (step.target_url, step.source_url) == (IMAGE, None)


def test_enhance_defaults_are_the_schemas() -> None:
    assert options(operation("enhance")) == {"--face-enhancer-model": ["gfpgan_1.4"], "--face-enhancer-blend": ["100"]}


def test_age_adjust_shifts_from_the_faces_age_with_fran() -> None:
    op = operation("age_adjust", face_age=35, target_age=70)
    assert plan_operation(op).processors == ("age_modifier",)
    assert options(op) == {"--age-modifier-model": ["fran"], "--age-modifier-direction": ["35"]}


def test_age_adjust_without_the_faces_age_is_refused_saying_why() -> None:
    with pytest.raises(ValidationError) as refused:
        check_operation(operation("age_adjust", target_age=70))
    assert refused.value.field == "face_age"
    assert "target_age - face_age" in str(refused.value) and "character's age" in str(refused.value)


def test_swap_reads_the_source_face_and_replaces_the_face_in_the_target() -> None:
    op = operation("swap", source_face_url="https://cdn.example/face.png", target_image_url="storyboard://media/t1",
                   face_swapper_model="inswapper_128_fp16")
    step = plan_operation(op)
    assert step.processors == ("face_swapper",)
    assert (step.source_url, step.source_field) == ("https://cdn.example/face.png", "source_face_url")
    assert (step.target_url, step.target_field) == ("storyboard://media/t1", "target_image_url")
    assert options(op) == {"--face-swapper-model": ["inswapper_128_fp16"]}


def test_a_swapper_model_facefusion_lacks_is_refused_listing_the_real_ones() -> None:
    op = operation("swap", source_face_url=IMAGE, target_image_url=IMAGE, face_swapper_model="inswapper_256")
    with pytest.raises(ValidationError) as refused:
        check_operation(op)
    assert refused.value.field == "face_swapper_model"
    assert refused.value.allowed == list(choices.FACE_SWAPPER_MODELS)
    assert "'inswapper_256' is not a FaceFusion 3.8.1 model" in str(refused.value)
    assert "hyperswap_1a_256" in str(refused.value)


def test_edit_passes_only_the_values_given_as_floats() -> None:
    op = operation("edit", face_editor_mouth_smile=37, face_editor_head_yaw=-100, face_editor_eye_open_ratio=0)
    assert plan_operation(op).processors == ("face_editor",)
    assert options(op) == {"--face-editor-eye-open-ratio": ["0.00"], "--face-editor-mouth-smile": ["0.35"],
                           "--face-editor-head-yaw": ["-1.00"]}


def test_mask_draws_the_face_mask_with_the_debugger_and_maps_all_to_many() -> None:
    op = operation("mask", face_mask_types=["box", "region", "area"], face_mask_regions=["skin", "nose"],
                   face_mask_areas=["mouth"], face_mask_blur=0.33, face_selector_mode="all")
    assert plan_operation(op).processors == ("face_debugger",)
    assert options(op) == {
        "--face-debugger-items": ["face-mask"], "--face-mask-types": ["box", "region", "area"],
        "--face-mask-areas": ["mouth"], "--face-mask-regions": ["skin", "nose"], "--face-mask-blur": ["0.35"],
        "--face-selector-mode": ["many"],
    }


def test_mask_defaults_to_a_box_mask_of_one_face() -> None:
    assert options(operation("mask")) == {"--face-debugger-items": ["face-mask"], "--face-mask-types": ["box"],
                                          "--face-selector-mode": ["one"]}


def test_detect_draws_boxes_and_landmarks_of_every_face_with_the_real_detector_name() -> None:
    op = operation("detect", face_detector_model="yoloface")
    assert plan_operation(op).processors == ("face_debugger",)
    assert options(op) == {"--face-debugger-items": ["bounding-box", "face-landmark-5/68"],
                           "--face-detector-model": ["yolo_face"], "--face-detector-size": ["640x640"],
                           "--face-selector-mode": ["many"]}
    assert options(operation("detect", face_detector_model="retinaface", face_detector_size="320x320"))[
        "--face-detector-size"] == ["320x320"]


@pytest.mark.parametrize(
    ("op", "field", "fragment"),
    [
        (operation("enhance", face_enhancer_blend=1.5), "face_enhancer_blend", "less than or equal to 1"),
        (operation("enhance", enhancement_model="gfpgan_9"), "enhancement_model", "gfpgan_1.4"),
        (operation("enhance", target_age=40), "target_age", "Extra inputs are not permitted"),
        (operation("edit"), "parameters", "at least one face_editor_* value"),
        (operation("detect", face_detector_model="yunet", face_detector_size="320x320"), "parameters", "640x640"),
        (operation("swap", source_face_url=IMAGE), "target_image_url", "Field required"),
        (operation("enhance", url="/uploads/face.png"), "input_image_url", "storyboard://media/<id>, http(s)://"),
        (operation("swap", source_face_url="/uploads/a.png", target_image_url=IMAGE), "source_face_url",
         "cannot be read"),
    ],
)
def test_operations_facefusion_cannot_run_are_refused_naming_the_field(
    op: FaceFusionOperation, field: str, fragment: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        check_operation(op)
    assert refused.value.field == field
    assert fragment in str(refused.value)


def test_the_command_line_keeps_facefusions_files_in_the_runs_directory(tmp_path: Path) -> None:
    op = operation("swap", source_face_url=IMAGE, target_image_url=IMAGE)
    argv = command_line(plan_operation(op), python="/py", script=Path("/ff/facefusion.py"),
                        target_path=tmp_path / "target.png", output_path=tmp_path / "output.png",
                        source_path=tmp_path / "source.png", execution_providers=("cuda", "cpu"), temp_dir=tmp_path)
    assert argv[:5] == ["/py", "/ff/facefusion.py", "headless-run", "--processors", "face_swapper"]
    text = " ".join(argv)
    assert f"-s {tmp_path}/source.png -t {tmp_path}/target.png -o {tmp_path}/output.png" in text
    assert "--execution-providers cuda cpu" in text
    assert f"--temp-path {tmp_path}/temp --jobs-path {tmp_path}/jobs" in text
