"""Reading FaceFusion's output (pure parts): progress from its bars and stages, a bounded stderr tail without
redraws or secrets, and an environment without secrets for the child."""

from __future__ import annotations

import sys
from pathlib import Path

from mcp_storyboard.integrations.facefusion import process
from mcp_storyboard.integrations.facefusion.process import ProgressParser, child_environment, run_command, scrub


def test_progress_follows_the_processing_bar_and_the_image_stages_and_never_goes_back() -> None:
    parser = ProgressParser()
    lines = [
        "[FACEFUSION.CORE] processing step 1 of 1",  # 5
        "downloading:  40%|====      | 4.0M/10.0M",  # a model download is not the operation's progress
        "[FACEFUSION.TO_IMAGE] copying image with a resolution of 512x512",  # 10
        "processing:   7%|=         | 7/100",
        "processing:  64%|======    | 64/100",
        "processing:  30%|===       | 30/100",  # a second bar starting again does not move progress back
        "[FACEFUSION.TO_IMAGE] finalizing image with a resolution of 512x512",  # 90
    ]
    assert [parser.feed(line) for line in lines] == [5.0, None, 10.0, None, 64.0, None, 90.0]
    assert parser.feed("processing: 100%|==========| 100/100") == 100.0


def test_secrets_are_removed_from_text_and_from_the_childs_environment() -> None:
    text = "GET https://bob:pw1@hf.example/m.onnx with token abcd1234 and mongodb+srv://u:p@c.example/db"
    assert scrub(text, ["abcd1234"]) == "GET https://***@hf.example/m.onnx with token *** and mongodb+srv://***@c.example/db"
    env = child_environment({"PATH": "/bin", "HOME": "/h", "MONGODB_URI": "x", "HF_TOKEN": "t", "AWS_SECRET_ACCESS_KEY": "k",
                             "CUDA_VISIBLE_DEVICES": "0", "LD_LIBRARY_PATH": "/cuda", "FACEFUSION_PATH": "/ff"})
    assert env == {"PATH": "/bin", "HOME": "/h", "CUDA_VISIBLE_DEVICES": "0", "LD_LIBRARY_PATH": "/cuda",
                   "FACEFUSION_PATH": "/ff"}


async def test_the_stderr_tail_is_bounded_keeps_the_end_and_each_bars_last_state(tmp_path: Path) -> None:
    script = ("import sys\n"
              "for i in range(20000): sys.stderr.write(f'noise line {i}\\n')\n"
              "for p in (10, 60): sys.stderr.write(f'processing: {p:3d}%|bar\\r')\n"
              "sys.stderr.write('\\n[FACEFUSION.CORE] the real reason\\n')\n")
    reports: list[float] = []

    async def report(value: float) -> None:
        reports.append(value)

    done = await run_command([sys.executable, "-c", script], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"},
                             timeout_s=120, report=report)
    assert done.returncode == 0 and reports == [10.0, 60.0]
    assert len(done.stderr_tail) <= process.ERROR_CHARS
    assert done.stderr_tail.endswith("noise line 19999\nprocessing:  60%|bar\n[FACEFUSION.CORE] the real reason")
