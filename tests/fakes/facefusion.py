"""A stand-in for FaceFusion 3.8.1's ``facefusion.py`` for the tests: no models, no onnxruntime.

It parses ``headless-run`` as strictly as FaceFusion's own parser: the real argument names, ``choices`` for every
model, mode and item, the ranges as FaceFusion's choice lists (ints on a step of 1, floats on a 0.05 grid, the
detector size allowed by the chosen detector model). An unknown flag or a value out of range exits 2 with
argparse's message on stderr, as FaceFusion does. Like FaceFusion it must run from its own folder (it resolves
its processors relative to the working directory), wants an image target, an image output path and, for
``face_swapper``, an image source. It logs FaceFusion-style lines and a tqdm-style ``processing`` bar on stderr,
then copies the target to ``-o``.

Written independently of the package under test (same facts as ``reference/facefusion.md``): the tests check
the runner's arguments against this, not against the runner's own tables.

Environment switches:
    FAKE_FACEFUSION_RECORD   append one JSON line per run to this file: argv, cwd, pid, the environment's keys
    FAKE_FACEFUSION_FAIL     exit 1 after printing this text on stderr
    FAKE_FACEFUSION_SLEEP    seconds to sleep before processing (for timeouts and cancellation)
    FAKE_FACEFUSION_CHILD    1: start a child process that sleeps as long (a stand-in for ffmpeg), its pid recorded
    FAKE_FACEFUSION_NO_OUTPUT  1: exit 0 without writing the output
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def int_range(low: int, high: int) -> list[int]:
    return list(range(low, high + 1))


def float_grid(low: float, high: float, step: float = 0.05) -> list[float]:
    count = round((high - low) / step)
    return [round(low + i * step, 2) for i in range(count + 1)]


DETECTOR_SIZES = {
    "many": ["640x640"],
    "retinaface": ["160x160", "320x320", "480x480", "512x512", "640x640"],
    "scrfd": ["160x160", "320x320", "480x480", "512x512", "640x640"],
    "yolo_face": ["640x640"],
    "yunet": ["640x640"],
}
SWAPPER_BOOSTS = {
    "blendswap_256": ["256x256", "384x384", "512x512", "768x768", "1024x1024"],
    "inswapper_128": ["128x128", "256x256", "384x384", "512x512", "768x768", "1024x1024"],
    "inswapper_128_fp16": ["128x128", "256x256", "384x384", "512x512", "768x768", "1024x1024"],
    "simswap_unofficial_512": ["512x512", "768x768", "1024x1024"],
    **{m: ["256x256", "512x512", "768x768", "1024x1024"] for m in (
        "ghost_1_256", "ghost_2_256", "ghost_3_256", "hififace_unofficial_256", "hyperswap_1a_256",
        "hyperswap_1b_256", "hyperswap_1c_256", "simswap_256", "uniface_256")},
}
PROCESSORS = ["age_modifier", "background_remover", "deep_swapper", "expression_restorer", "face_debugger",
              "face_editor", "face_enhancer", "face_swapper", "frame_colorizer", "frame_enhancer", "lip_syncer"]
ENHANCERS = ["codeformer", "gfpgan_1.2", "gfpgan_1.3", "gfpgan_1.4", "gpen_bfr_256", "gpen_bfr_512", "gpen_bfr_1024",
             "gpen_bfr_2048", "restoreformer_plus_plus"]
DEBUGGER_ITEMS = ["bounding-box", "face-landmark-5", "face-landmark-5/68", "face-landmark-68", "face-landmark-68/5",
                  "face-mask"]
EDITOR_VALUES = ["eyebrow-direction", "eye-gaze-horizontal", "eye-gaze-vertical", "eye-open-ratio", "lip-open-ratio",
                 "mouth-grim", "mouth-pout", "mouth-purse", "mouth-smile", "mouth-position-horizontal",
                 "mouth-position-vertical", "head-pitch", "head-yaw", "head-roll"]
IMAGE_SUFFIXES = {".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp"}


def known(argv: list[str], flag: str, default: str) -> str:
    # FaceFusion reads the chosen model first (parse_known_args) to pick the allowed sizes; so does this.
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument(flag, default=default)
    return str(vars(probe.parse_known_args(argv)[0])[flag.lstrip("-").replace("-", "_")])


def headless_parser(argv: list[str]) -> argparse.ArgumentParser:
    program = argparse.ArgumentParser(prog="facefusion.py headless-run")
    add = program.add_argument
    add("--config-path", default="facefusion.ini")
    add("--temp-path")
    add("--jobs-path", default=".jobs")
    add("-s", "--source-paths", nargs="+")
    add("-t", "--target-path")
    add("-o", "--output-path")
    detector = known(argv, "--face-detector-model", "yolo_face")
    add("--face-detector-model", default="yolo_face", choices=list(DETECTOR_SIZES))
    add("--face-detector-size", default="640x640", choices=DETECTOR_SIZES.get(detector, []))
    add("--face-detector-margin", type=int, nargs="+", choices=int_range(0, 100), metavar="N")
    add("--face-detector-angles", type=int, nargs="+", choices=[0, 90, 180, 270])
    add("--face-detector-score", type=float, choices=float_grid(0.0, 1.0), metavar="[0.0..1.0:0.05]")
    add("--face-landmarker-model", default="2dfan4", choices=["many", "2dfan4", "peppa_wutz"])
    add("--face-landmarker-score", type=float, choices=float_grid(0.0, 1.0), metavar="[0.0..1.0:0.05]")
    add("--face-selector-mode", default="reference", choices=["many", "one", "reference"])
    add("--face-selector-order", default="large-small", choices=["left-right", "right-left", "top-bottom",
        "bottom-top", "small-large", "large-small", "best-worst", "worst-best"])
    add("--face-selector-age-start", type=int, choices=int_range(0, 100), metavar="[0..100:1]")
    add("--face-selector-age-end", type=int, choices=int_range(0, 100), metavar="[0..100:1]")
    add("--face-selector-gender", choices=["auto", "female", "male"])
    add("--face-selector-race", choices=["auto", "white", "black", "latino", "asian", "indian", "arabic"])
    add("--reference-face-position", type=int, default=0)
    add("--reference-face-distance", type=float, choices=float_grid(0.0, 1.0), metavar="[0.0..1.0:0.05]")
    add("--reference-frame-number", type=int, default=0)
    add("--face-tracker-score", type=float, choices=float_grid(0.0, 0.5), metavar="[0.0..0.5:0.05]")
    add("--face-occluder-model", default="xseg_1", choices=["many", "xseg_1", "xseg_2", "xseg_3"])
    add("--face-parser-model", default="bisenet_resnet_34", choices=["bisenet_resnet_18", "bisenet_resnet_34"])
    add("--face-mask-types", nargs="+", default=["box"], choices=["box", "occlusion", "area", "region"])
    add("--face-mask-areas", nargs="+", choices=["upper-face", "lower-face", "mouth"])
    add("--face-mask-regions", nargs="+", choices=["skin", "left-eyebrow", "right-eyebrow", "left-eye", "right-eye",
        "glasses", "nose", "mouth", "upper-lip", "lower-lip"])
    add("--face-mask-blur", type=float, choices=float_grid(0.0, 1.0), metavar="[0.0..1.0:0.05]")
    add("--face-mask-padding", type=int, nargs="+", choices=int_range(0, 100), metavar="N")
    add("--output-image-quality", type=int, choices=int_range(0, 100), metavar="[0..100:1]")
    add("--output-image-scale", type=float, choices=float_grid(0.25, 8.0, 0.25), metavar="[0.25..8.0:0.25]")
    add("--workflow-mode", default="auto", choices=["auto", "image-to-image", "image-to-video"])
    add("--workflow-strategy", default="memory", choices=["disk", "memory"])
    add("--processors", nargs="+", default=["face_swapper"], choices=PROCESSORS)
    swapper = known(argv, "--face-swapper-model", "hyperswap_1a_256")
    add("--face-swapper-model", default="hyperswap_1a_256", choices=list(SWAPPER_BOOSTS))
    add("--face-swapper-pixel-boost", choices=SWAPPER_BOOSTS.get(swapper, []))
    add("--face-swapper-weight", type=float, choices=float_grid(0.0, 1.0))
    add("--face-enhancer-model", default="gfpgan_1.4", choices=ENHANCERS)
    add("--face-enhancer-blend", type=int, default=80, choices=int_range(0, 100), metavar="[0..100:1]")
    add("--face-enhancer-weight", type=float, choices=float_grid(0.0, 1.0), metavar="[0.0..1.0:0.05]")
    add("--age-modifier-model", default="fran", choices=["fran", "styleganex_age"])
    add("--age-modifier-direction", type=int, default=0, choices=int_range(-100, 100), metavar="[-100..100:1]")
    add("--expression-restorer-model", default="live_portrait", choices=["live_portrait"])
    add("--expression-restorer-factor", type=int, choices=int_range(0, 100), metavar="[0..100:1]")
    add("--face-editor-model", default="live_portrait", choices=["live_portrait"])
    for name in EDITOR_VALUES:
        add(f"--face-editor-{name}", type=float, default=0.0, choices=float_grid(-1.0, 1.0), metavar="[-1.0..1.0:0.05]")
    add("--face-debugger-items", nargs="+", default=["face-landmark-5/68", "face-mask"], choices=DEBUGGER_ITEMS)
    add("--execution-device-ids", type=int, nargs="+", default=[0])
    add("--execution-providers", nargs="+", default=["cpu"], choices=["cpu"])  # onnxruntime here has only cpu
    add("--execution-thread-count", type=int, default=8, choices=int_range(1, 32), metavar="[1..32:1]")
    add("--video-memory-strategy", default="strict", choices=["strict", "moderate", "tolerant"])
    add("--log-level", default="info", choices=["error", "warn", "info", "debug"])
    return program


def log(module: str, message: str) -> None:
    print(f"[FACEFUSION.{module.upper()}] {message}", file=sys.stderr, flush=True)


def fail(module: str, message: str) -> int:
    log(module, message)
    return 1


def record(entry: dict[str, object]) -> None:
    target = os.environ.get("FAKE_FACEFUSION_RECORD")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "headless-run":
        print("facefusion.py: error: this fake knows only the headless-run command", file=sys.stderr)
        return 2
    args = headless_parser(argv[1:]).parse_args(argv[1:])  # exits 2 on an unknown flag or a bad value
    if Path.cwd().resolve() != HERE:
        return fail("core", "run me from my own folder: processors are resolved relative to it")
    entry: dict[str, object] = {"argv": argv, "cwd": str(Path.cwd()), "pid": os.getpid(), "env": sorted(os.environ)}
    seconds = float(os.environ.get("FAKE_FACEFUSION_SLEEP") or 0)
    if os.environ.get("FAKE_FACEFUSION_CHILD") == "1":
        # Like FaceFusion's ffmpeg: its own pipes, so only killing the process group stops it.
        child = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds or 60})"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        entry["child_pid"] = child.pid
    record(entry)
    if seconds:
        time.sleep(seconds)
    if os.environ.get("FAKE_FACEFUSION_FAIL"):
        return fail("core", os.environ["FAKE_FACEFUSION_FAIL"])
    target, output = Path(args.target_path or ""), Path(args.output_path or "")
    if not target.is_file() or target.suffix.lower() not in IMAGE_SUFFIXES:
        return fail("core", "choose an image or video for the target!")
    if output.suffix.lower() not in IMAGE_SUFFIXES or not output.parent.is_dir():
        return fail("core", "specify a valid output path!")
    if "face_swapper" in args.processors:
        sources = [Path(p) for p in args.source_paths or []]
        if not any(p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES for p in sources):
            return fail("face_swapper", "choose an image for the source!")
    log("core", "processing step 1 of 1")
    log("to_image", "copying image with a resolution of 1x1")
    for percent in (0, 50, 100):
        print(f"processing: {percent:3d}%|{'=' * (percent // 10):<10}| {percent // 50}/2", end="\r", file=sys.stderr,
              flush=True)
    print(file=sys.stderr)
    log("to_image", "finalizing image with a resolution of 1x1")
    if os.environ.get("FAKE_FACEFUSION_NO_OUTPUT") == "1":  # a FaceFusion that exits 0 and writes nothing
        return 0
    shutil.copyfile(target, output)
    log("to_image", "processing to image succeeded in 0.01 seconds")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
