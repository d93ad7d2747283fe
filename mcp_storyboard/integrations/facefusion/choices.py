"""What FaceFusion 3.8.1's CLI accepts, as far as this project drives it (``reference/facefusion.md`` §3–4).

Plain data, no imports: ``config.py`` reads the execution providers from here, and the argument mapping checks
every model and option value against these sets before a job is queued, so a value FaceFusion would refuse is
refused with a clear message instead of failing a worker's run minutes later.
"""

from __future__ import annotations

FACEFUSION_VERSION = "3.8.1"

FACE_ENHANCER_MODELS = (
    "codeformer", "gfpgan_1.2", "gfpgan_1.3", "gfpgan_1.4", "gpen_bfr_256", "gpen_bfr_512", "gpen_bfr_1024",
    "gpen_bfr_2048", "restoreformer_plus_plus",
)  # fmt: skip
FACE_SWAPPER_MODELS = (
    "blendswap_256", "ghost_1_256", "ghost_2_256", "ghost_3_256", "hififace_unofficial_256", "hyperswap_1a_256",
    "hyperswap_1b_256", "hyperswap_1c_256", "inswapper_128", "inswapper_128_fp16", "simswap_256",
    "simswap_unofficial_512", "uniface_256",
)  # fmt: skip
AGE_MODIFIER_MODELS = ("fran", "styleganex_age")
AGE_MODIFIER_MODEL = "fran"
"""FaceFusion's default; the schema has no age model field."""
FACE_DETECTOR_MODELS = ("many", "retinaface", "scrfd", "yolo_face", "yunet")
FACE_DETECTOR_SIZES = {
    "many": ("640x640",),
    "retinaface": ("160x160", "320x320", "480x480", "512x512", "640x640"),
    "scrfd": ("160x160", "320x320", "480x480", "512x512", "640x640"),
    "yolo_face": ("640x640",),
    "yunet": ("640x640",),
}
FACE_SELECTOR_MODES = ("many", "one", "reference")
FACE_MASK_TYPES = ("box", "occlusion", "area", "region")
FACE_MASK_AREAS = ("upper-face", "lower-face", "mouth")
FACE_MASK_REGIONS = (
    "skin", "left-eyebrow", "right-eyebrow", "left-eye", "right-eye", "glasses", "nose", "mouth", "upper-lip",
    "lower-lip",
)  # fmt: skip
FACE_DEBUGGER_ITEMS = (
    "bounding-box", "face-landmark-5", "face-landmark-5/68", "face-landmark-68", "face-landmark-68/5", "face-mask",
)  # fmt: skip
EXECUTION_PROVIDERS = ("cuda", "tensorrt", "rocm", "migraphx", "coreml", "openvino", "qnn", "directml", "cpu")

IMAGE_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
    "image/tiff": ".tiff",
}
"""The image formats FaceFusion reads and writes (it decides by the file extension), by MIME type."""

EDITOR_STEP = 0.05
"""FaceFusion's face editor values and ``--face-mask-blur`` are floats on a 0.05 grid (its parser's choices)."""

SCHEMA_MODEL_NAMES = {"yoloface": "yolo_face"}
"""The schema's (FaceFusion 2) spellings of models FaceFusion 3 renamed."""
