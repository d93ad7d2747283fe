"""One FaceFusion operation → the ``facefusion.py headless-run`` argument list (pure: no I/O, no event loop).

The parameters arrive in the schema's units and names (``models/facefusion_params.py``); FaceFusion 3.8.1 wants
its own (``choices.py``). The conversions:

- blends 0.0–1.0 → ``--face-enhancer-blend`` int 0–100;
- ``face_editor_*`` ints −100…100 → ``--face-editor-*`` floats −1.0…1.0 on FaceFusion's 0.05 grid (its parser
  only accepts grid values: 37 → 0.35), and ``face_mask_blur`` onto the same grid;
- the absolute ``target_age`` → ``--age-modifier-direction``, FaceFusion's *relative* shift: ``target_age −
  face_age`` (the face's current age, which the operation carries: from the character's age or the tool's
  argument), scaled by ``age_adjustment_blend`` (FaceFusion has no age blend; 0.5 goes half way), clamped to
  −100…100;
- ``mask`` draws the face mask with ``face_debugger`` (item ``face-mask``) and the ``--face-mask-*`` options;
  ``detect`` draws boxes and landmarks with ``face_debugger`` over every face;
- model names: the schema's ``yoloface`` is FaceFusion 3's ``yolo_face``; face selector mode ``all`` is ``many``;
  a model FaceFusion does not have (the schema's ``inswapper_256``) is refused, listing the valid ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.integrations.facefusion import choices
from mcp_storyboard.models.facefusion_jobs import FaceFusionOperation
from mcp_storyboard.models.facefusion_params import (
    AgeAdjustParameters,
    DetectParameters,
    EditParameters,
    EnhanceParameters,
    FaceEditorValues,
    FaceFusionParameters,
    MaskParameters,
    SwapParameters,
    describe_errors,
    validate_parameters,
)

INPUT_SCHEMES = ("storyboard://media/", "http://", "https://")
"""Where the runner can read an input from (a relative ``/uploads/...`` path of the original app cannot be read)."""
_SELECTOR_MODES = {"one": "one", "many": "many", "all": "many"}
_DETECT_ITEMS = ("bounding-box", "face-landmark-5/68")
_EDITOR_FIELDS = tuple(FaceEditorValues.model_fields)


@dataclass(frozen=True)
class HeadlessStep:
    """One operation as FaceFusion sees it: processors and their options, and the inputs it reads."""

    processors: tuple[str, ...]
    options: tuple[str, ...]
    """Processor and face options, without paths and execution settings."""
    target_url: str
    target_field: str
    """The field the target came from, for error messages (``input_image_url`` or ``target_image_url``)."""
    source_url: str | None = None
    source_field: str | None = None


def check_operation(operation: FaceFusionOperation) -> None:
    """Refuse, at queue time, an operation FaceFusion could not run.

    Raises:
        ValidationError: naming the field and the allowed values: parameters that do not fit the operation type,
            a model FaceFusion 3.8.1 lacks, an age adjustment without ``face_age``, an input that is neither
            ``storyboard://media/<id>`` nor http(s).
    """
    plan_operation(operation)


def plan_operation(operation: FaceFusionOperation) -> HeadlessStep:
    """The processors, options and inputs of ``operation`` (see the module docstring for the conversions).

    Raises:
        ValidationError: as :func:`check_operation`.
    """
    try:
        parameters = validate_parameters(operation.operation_type, operation.parameters)
    except PydanticValidationError as exc:
        first = exc.errors()[0]["loc"]
        raise ValidationError(str(first[0]) if first else "parameters", describe_errors(exc)) from None
    target = _input("input_image_url", operation.input_image_url)
    builder = _BUILDERS[type(parameters)]
    return builder(parameters, operation, target)


def command_line(
    step: HeadlessStep,
    *,
    python: str,
    script: Path,
    target_path: Path,
    output_path: Path,
    source_path: Path | None,
    execution_providers: Sequence[str],
    temp_dir: Path,
) -> list[str]:
    """The full ``headless-run`` command. FaceFusion keeps its temporary frames and its job files under
    ``temp_dir`` (its defaults, the system temp dir and ``./.jobs``, would be shared by concurrent runs)."""
    argv = [python, str(script), "headless-run", "--processors", *step.processors, *step.options]
    if source_path is not None:
        argv += ["-s", str(source_path)]
    argv += ["-t", str(target_path), "-o", str(output_path)]
    argv += ["--execution-providers", *execution_providers]
    argv += ["--temp-path", str(temp_dir / "temp"), "--jobs-path", str(temp_dir / "jobs"), "--log-level", "info"]
    return argv


# -- conversions -----------------------------------------------------------------------------------------------
def blend_percent(blend: float) -> int:
    """A 0.0–1.0 blend as FaceFusion's int 0–100 (half up)."""
    return min(100, max(0, math.floor(blend * 100 + 0.5)))


def editor_value(value: int) -> str:
    """A −100…100 face editor value as FaceFusion's −1.0…1.0 float on its 0.05 grid."""
    return _on_grid(value / 100, -1.0, 1.0)


def age_direction(target_age: int, face_age: int, blend: float = 1.0) -> int:
    """FaceFusion's relative ``--age-modifier-direction`` taking a face of ``face_age`` towards ``target_age``."""
    shift = (target_age - face_age) * blend
    return min(100, max(-100, int(math.copysign(math.floor(abs(shift) + 0.5), shift))))


def model_name(field: str, name: str, valid: Sequence[str]) -> str:
    """``name`` as FaceFusion 3.8.1 spells it.

    Raises:
        ValidationError: FaceFusion has no such model (listing the valid ones).
    """
    real = choices.SCHEMA_MODEL_NAMES.get(name, name)
    if real not in valid:
        raise ValidationError(
            field, f"'{name}' is not a FaceFusion {choices.FACEFUSION_VERSION} model", allowed=valid
        )
    return real


def _on_grid(value: float, low: float, high: float) -> str:
    steps = math.floor(abs(value) / choices.EDITOR_STEP + 0.5)
    snapped = math.copysign(steps * choices.EDITOR_STEP, value) if steps else 0.0
    return f"{min(high, max(low, snapped)):.2f}"


def _input(field: str, url: str) -> str:
    if not url.startswith(INPUT_SCHEMES) or url in INPUT_SCHEMES:
        raise ValidationError(field, f"'{url[:200]}' cannot be read by the FaceFusion runner",
                              allowed=("storyboard://media/<id>", "http(s)://..."))
    return url


# -- one builder per operation type ----------------------------------------------------------------------------
def _enhance(parameters: Any, operation: FaceFusionOperation, target: str) -> HeadlessStep:
    p: EnhanceParameters = parameters
    model = model_name("enhancement_model", p.enhancement_model, choices.FACE_ENHANCER_MODELS)
    options = ("--face-enhancer-model", model, "--face-enhancer-blend", str(blend_percent(p.face_enhancer_blend)))
    return HeadlessStep(("face_enhancer",), options, target, "input_image_url")


def _age(parameters: Any, operation: FaceFusionOperation, target: str) -> HeadlessStep:
    p: AgeAdjustParameters = parameters
    if operation.face_age is None:
        raise ValidationError(
            "face_age",
            "an age adjustment needs the face's current age: FaceFusion shifts the age it sees by a relative "
            "amount, computed as target_age - face_age",
            hint="give face_age (0-100), or set the character's age",
        )
    direction = age_direction(p.target_age, operation.face_age, p.age_adjustment_blend)
    options = ("--age-modifier-model", choices.AGE_MODIFIER_MODEL, "--age-modifier-direction", str(direction))
    return HeadlessStep(("age_modifier",), options, target, "input_image_url")


def _swap(parameters: Any, operation: FaceFusionOperation, target: str) -> HeadlessStep:
    p: SwapParameters = parameters
    model = model_name("face_swapper_model", p.face_swapper_model, choices.FACE_SWAPPER_MODELS)
    return HeadlessStep(
        ("face_swapper",),
        ("--face-swapper-model", model),
        target_url=_input("target_image_url", p.target_image_url),
        target_field="target_image_url",
        source_url=_input("source_face_url", p.source_face_url),
        source_field="source_face_url",
    )


def _edit(parameters: Any, operation: FaceFusionOperation, target: str) -> HeadlessStep:
    p: EditParameters = parameters
    options: list[str] = []
    for name in _EDITOR_FIELDS:
        value = getattr(p, name)
        if value is not None:
            options += ["--" + name.replace("_", "-"), editor_value(value)]
    return HeadlessStep(("face_editor",), tuple(options), target, "input_image_url")


def _mask(parameters: Any, operation: FaceFusionOperation, target: str) -> HeadlessStep:
    p: MaskParameters = parameters
    options = ["--face-debugger-items", "face-mask", "--face-mask-types", *p.face_mask_types]
    if p.face_mask_areas:
        options += ["--face-mask-areas", *dict.fromkeys(p.face_mask_areas)]
    if p.face_mask_regions:
        options += ["--face-mask-regions", *dict.fromkeys(p.face_mask_regions)]
    if p.face_mask_blur is not None:
        options += ["--face-mask-blur", _on_grid(p.face_mask_blur, 0.0, 1.0)]
    options += ["--face-selector-mode", _SELECTOR_MODES[p.face_selector_mode]]
    return HeadlessStep(("face_debugger",), tuple(options), target, "input_image_url")


def _detect(parameters: Any, operation: FaceFusionOperation, target: str) -> HeadlessStep:
    p: DetectParameters = parameters
    model = model_name("face_detector_model", p.face_detector_model, choices.FACE_DETECTOR_MODELS)
    sizes = choices.FACE_DETECTOR_SIZES[model]
    if p.face_detector_size not in sizes:
        raise ValidationError("face_detector_size", f"'{p.face_detector_size}' does not fit {model}", allowed=sizes)
    options = (
        "--face-debugger-items", *_DETECT_ITEMS, "--face-detector-model", model,
        "--face-detector-size", p.face_detector_size, "--face-selector-mode", "many",
    )  # fmt: skip
    return HeadlessStep(("face_debugger",), options, target, "input_image_url")


_Builder = Callable[[Any, FaceFusionOperation, str], HeadlessStep]
_BUILDERS: dict[type[FaceFusionParameters], _Builder] = {
    EnhanceParameters: _enhance,
    AgeAdjustParameters: _age,
    SwapParameters: _swap,
    EditParameters: _edit,
    MaskParameters: _mask,
    DetectParameters: _detect,
}
