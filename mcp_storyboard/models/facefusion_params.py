"""FaceFusion closed sets, per-operation parameters and a character's preferred settings.

The shapes are the schema's (``DATABASE_SCHEMA.md``, characters); the model names and option values are the real
FaceFusion 3.x ones (``reference/facefusion.md`` §3–4) plus the schema's own spellings, which stored data uses.
Where the schema's units differ from FaceFusion's, the integration layer converts: blends are 0.0–1.0 here and
int 0–100 in FaceFusion; the ``face_editor_*`` values are ints −100…100 here and floats −1…1 in FaceFusion;
``target_age`` is absolute here and FaceFusion's ``--age-modifier-direction`` is relative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar, cast

from pydantic import (
    AfterValidator,
    AliasChoices,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from mcp_storyboard.models.common import StoryboardModel
from mcp_storyboard.models.values import NOT_BOOL, Fraction, Integer, MediaUrl

OperationType = Literal["enhance", "age_adjust", "swap", "edit", "mask", "detect"]
"""A FaceFusion operation recorded in a character's history."""
PresetOperationType = Literal["enhance", "age_adjust", "swap", "edit"]
"""The operations a preset can hold parameters for."""
FaceSelectorMode = Literal["one", "many", "all"]
"""The schema's set. FaceFusion 3 has one | many | reference; "all" maps to FaceFusion's "many"."""
FaceSelectorOrder = Literal[
    "left-right", "right-left", "top-bottom", "bottom-top", "small-large", "large-small", "best-worst", "worst-best"
]
"""Order in which detected faces are taken (FaceFusion ``--face-selector-order``)."""
EnhancementModel = Literal[
    "gfpgan_1.4", "gfpgan_1.3", "gfpgan_1.2", "codeformer", "restoreformer_plus_plus",
    "gpen_bfr_256", "gpen_bfr_512", "gpen_bfr_1024", "gpen_bfr_2048",
]  # fmt: skip
"""FaceFusion ``--face-enhancer-model`` values (the schema names the first, fourth and fifth)."""
SwapperModel = Literal[
    "inswapper_128", "inswapper_256", "inswapper_128_fp16", "blendswap_256", "ghost_1_256", "ghost_2_256",
    "ghost_3_256", "hififace_unofficial_256", "hyperswap_1a_256", "hyperswap_1b_256", "hyperswap_1c_256",
    "simswap_256", "simswap_unofficial_512", "uniface_256",
]  # fmt: skip
"""FaceFusion ``--face-swapper-model`` values, plus the schema's "inswapper_256" (which FaceFusion 3.8 lacks)."""
FaceMaskType = Literal["box", "occlusion", "area", "region"]
"""FaceFusion ``--face-mask-types`` values."""
FaceMaskArea = Literal["upper-face", "lower-face", "mouth"]
"""FaceFusion ``--face-mask-areas`` values."""
FaceMaskRegion = Literal[
    "skin", "left-eyebrow", "right-eyebrow", "left-eye", "right-eye", "glasses", "nose", "mouth", "upper-lip",
    "lower-lip",
]  # fmt: skip
"""FaceFusion ``--face-mask-regions`` values."""
FaceDetectorModel = Literal["yoloface", "yolo_face", "retinaface", "scrfd", "yunet", "many"]
"""FaceFusion ``--face-detector-model`` values; "yoloface" is the schema's (FaceFusion 2) name of "yolo_face"."""
FaceDetectorSize = Literal["160x160", "320x320", "480x480", "512x512", "640x640"]
"""FaceFusion ``--face-detector-size`` values."""

_SQUARE_640_ONLY = frozenset({"yoloface", "yolo_face", "yunet", "many"})


_T = TypeVar("_T")


def _unique(values: list[_T]) -> list[_T]:
    return list(dict.fromkeys(values))


MaskTypes = Annotated[list[FaceMaskType], Field(min_length=1), AfterValidator(_unique)]
"""One or more mask types, duplicates removed."""
EditorValue = Annotated[int, Field(ge=-100, le=100), NOT_BOOL]
"""A face editor value, −100…100 (FaceFusion: the value / 100)."""
EditorKey = Literal[
    "face_editor_eyebrow_direction", "face_editor_eye_gaze_horizontal", "face_editor_eye_gaze_vertical",
    "face_editor_eye_open_ratio", "face_editor_lip_open_ratio", "face_editor_mouth_grim", "face_editor_mouth_pout",
    "face_editor_mouth_purse", "face_editor_mouth_smile", "face_editor_mouth_position_horizontal",
    "face_editor_mouth_position_vertical", "face_editor_head_pitch", "face_editor_head_yaw", "face_editor_head_roll",
]  # fmt: skip
"""The names of the ``FaceEditorValues`` fields (a test keeps the two in step)."""


def _check_detector_size(model: str, size: str) -> None:
    if model in _SQUARE_640_ONLY and size != "640x640":
        raise ValueError(f"face_detector_model {model!r} only supports face_detector_size '640x640', not {size!r}")



def _box_mask() -> list[FaceMaskType]:
    return ["box"]

class FaceEditorValues(StoryboardModel):
    """The 14 optional ``face_editor_*`` values (expression and head pose), each −100…100."""

    face_editor_eyebrow_direction: EditorValue | None = None
    """Eyebrow direction, −100…100."""
    face_editor_eye_gaze_horizontal: EditorValue | None = None
    """Horizontal eye gaze, −100…100."""
    face_editor_eye_gaze_vertical: EditorValue | None = None
    """Vertical eye gaze, −100…100."""
    face_editor_eye_open_ratio: EditorValue | None = None
    """Eye opening, −100…100."""
    face_editor_lip_open_ratio: EditorValue | None = None
    """Lip opening, −100…100."""
    face_editor_mouth_grim: EditorValue | None = None
    """Grim mouth, −100…100."""
    face_editor_mouth_pout: EditorValue | None = None
    """Pouting mouth, −100…100."""
    face_editor_mouth_purse: EditorValue | None = None
    """Pursed mouth, −100…100."""
    face_editor_mouth_smile: EditorValue | None = None
    """Smile, −100…100."""
    face_editor_mouth_position_horizontal: EditorValue | None = None
    """Horizontal mouth position, −100…100."""
    face_editor_mouth_position_vertical: EditorValue | None = None
    """Vertical mouth position, −100…100."""
    face_editor_head_pitch: EditorValue | None = None
    """Head pitch, −100…100."""
    face_editor_head_yaw: EditorValue | None = None
    """Head yaw, −100…100."""
    face_editor_head_roll: EditorValue | None = None
    """Head roll, −100…100."""


class _Parameters(StoryboardModel):
    model_config = ConfigDict(extra="forbid")


class EnhanceParameters(_Parameters):
    """Parameters of an ``enhance`` operation (FaceFusion ``face_enhancer``)."""

    enhancement_model: EnhancementModel = "gfpgan_1.4"
    """Face enhancer model."""
    face_enhancer_blend: Fraction = 1.0
    """How much of the enhanced face is blended in, 0.0–1.0."""


class AgeAdjustParameters(_Parameters):
    """Parameters of an ``age_adjust`` operation (FaceFusion ``age_modifier``)."""

    target_age: Integer = Field(ge=0, le=100)
    """The age to show, 0–100."""
    age_adjustment_blend: Fraction = 1.0
    """How much of the adjusted face is blended in, 0.0–1.0."""


class SwapParameters(_Parameters):
    """Parameters of a ``swap`` operation (FaceFusion ``face_swapper``)."""

    source_face_url: MediaUrl
    """Image with the face to put in."""
    target_image_url: MediaUrl
    """Image whose face is replaced."""
    face_swapper_model: SwapperModel = "inswapper_128"
    """Face swapper model."""


class EditParameters(FaceEditorValues, _Parameters):
    """Parameters of an ``edit`` operation (FaceFusion ``face_editor``): only the values given are applied."""

    @model_validator(mode="after")
    def _at_least_one(self) -> EditParameters:
        if not self.model_dump(exclude_none=True):
            raise ValueError("an edit needs at least one face_editor_* value")
        return self


class MaskParameters(_Parameters):
    """Parameters of a ``mask`` operation (FaceFusion ``--face-mask-*`` options)."""

    face_mask_types: MaskTypes = Field(
        default_factory=_box_mask, validation_alias=AliasChoices("face_mask_types", "mask_types")
    )
    """Mask types to combine (the original app called this ``mask_types``)."""
    face_selector_mode: FaceSelectorMode = "one"
    """Which faces to mask."""
    face_mask_areas: list[FaceMaskArea] | None = None
    """Areas for the "area" mask type."""
    face_mask_regions: list[FaceMaskRegion] | None = None
    """Regions for the "region" mask type."""
    face_mask_blur: Fraction | None = None
    """Mask edge blur, 0.0–1.0 (FaceFusion's default is 0.3)."""


class DetectParameters(_Parameters):
    """Parameters of a ``detect`` operation (face detection only)."""

    face_detector_model: FaceDetectorModel = "yoloface"
    """Face detector model."""
    face_detector_size: FaceDetectorSize = "640x640"
    """Detector input size; yolo_face, yunet and many allow only 640x640."""

    @model_validator(mode="after")
    def _size_fits_model(self) -> DetectParameters:
        _check_detector_size(self.face_detector_model, self.face_detector_size)
        return self


FaceFusionParameters = (
    EnhanceParameters | AgeAdjustParameters | SwapParameters | EditParameters | MaskParameters | DetectParameters
)
"""Typed parameters of any operation."""

PARAMETER_MODELS: dict[str, type[_Parameters]] = {
    "enhance": EnhanceParameters,
    "age_adjust": AgeAdjustParameters,
    "swap": SwapParameters,
    "edit": EditParameters,
    "mask": MaskParameters,
    "detect": DetectParameters,
}
"""The parameter model of each operation type."""


class _OperationChoice(StoryboardModel):
    operation_type: OperationType


def validate_parameters(operation_type: str, parameters: Mapping[str, Any]) -> FaceFusionParameters:
    """Validate a stored ``parameters`` dict against its operation type.

    Raises ``pydantic.ValidationError`` whose error locations name the field (``operation_type`` for an unknown
    operation; the parameter, e.g. ``face_enhancer_blend``, otherwise). Unknown parameter keys are errors.
    """
    operation = _OperationChoice.model_validate({"operation_type": operation_type}).operation_type
    return cast(FaceFusionParameters, PARAMETER_MODELS[operation].model_validate(dict(parameters)))


def describe_errors(error: ValidationError) -> str:
    """One line naming every failing field: ``field: message; other: message``."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in error.errors())


class FaceFusionPreferredSettings(FaceEditorValues):
    """A character's preferred FaceFusion settings, the defaults for its operations (schema defaults)."""

    enhancement_model: EnhancementModel = "gfpgan_1.4"
    """Face enhancer model."""
    face_enhancer_blend: Fraction = 1.0
    """Enhancer blend, 0.0–1.0."""
    age_adjustment_blend: Fraction = 1.0
    """Age adjustment blend, 0.0–1.0."""
    face_mask_types: MaskTypes = Field(default_factory=_box_mask)
    """Mask types to combine."""
    face_selector_mode: FaceSelectorMode = "one"
    """Which faces to process: one, many or all."""
    face_selector_order: FaceSelectorOrder = "left-right"
    """Order in which detected faces are taken."""
    face_detector_model: FaceDetectorModel = "yoloface"
    """Face detector model."""
    face_detector_size: FaceDetectorSize = "640x640"
    """Detector input size; yolo_face, yunet and many allow only 640x640."""
    face_swapper_model: SwapperModel = "inswapper_128"
    """Face swapper model."""
    face_age: Annotated[int, Field(ge=0, le=100), NOT_BOOL] | None = None
    """Addition: the apparent age of the character's face, 0–100, from which an age_adjust to an absolute
    ``target_age`` is computed (FaceFusion's direction is relative); null when unknown."""

    @model_validator(mode="after")
    def _size_fits_model(self) -> FaceFusionPreferredSettings:
        _check_detector_size(self.face_detector_model, self.face_detector_size)
        return self
