"""Issue-6 figures: prompt composition time against prompt length (1k, 10k and 100k characters) for the inputs that
made the glue-trimming regex quadratic (long runs of spaces and commas inside the text) and for a prompt made of
repeated character prefixes. Linear code grows ~10x per 10x of length; prints times and those ratios, asserts
nothing.

    .venv/bin/python tests/benchmarks/bench_prompt_composer.py [--sizes 1000,10000,100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.style_templates import StyleTemplate
from mcp_storyboard.services.styles.prompt_composer import compose_clip, compose_prompt

CHARACTER = Character(id="char-1", project_id="p1", name="Alice", description="a knight", trigger_words="alc1",
                      lora="alice_v2:0.8")
TEMPLATE = StyleTemplate(id="tpl-1", name="Noir", prompt_additions="film noir", negative_prompt="blurry",
                         style_strength=0.8)
PREFIX = "alc1 Alice, a knight."


def glue_run(size: int) -> str:
    """A word, then spaces and commas up to ``size``, then a word: the worst case of ``[\\s,]+$``."""
    return "a" + " ," * ((size - 2) // 2) + "b"


def prefix_copies(size: int) -> str:
    """The character prefix repeated (the original app prefixed on every apply) up to ``size``."""
    return " ".join([PREFIX] * max(1, size // (len(PREFIX) + 1))) + " a castle"


def best(rounds: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cases: dict[str, Callable[[str], object]] = {
        "compose_prompt": lambda text: compose_prompt("image", text, clip_id="c", character=CHARACTER,
                                                      template=TEMPLATE),
        "compose_clip (both kinds)": lambda text: compose_clip(
            Clip.model_construct(id="c", scene_id="s", project_id="p", image_prompt=text, video_prompt=text),
            character=CHARACTER, template=TEMPLATE),
    }
    for shape, make in (("spaces and commas inside", glue_run), ("repeated character prefix", prefix_copies)):
        for name, fn in cases.items():
            previous: float | None = None
            for size in sizes:
                text = make(size)
                seconds = best(args.rounds, lambda: fn(text))
                ratio = f"  x{seconds / previous:6.1f} for x{size // prev_size}" if previous else ""
                print(f"{shape:27} {name:26} {size:>7} chars {seconds * 1000:10.2f} ms{ratio}")
                previous, prev_size = seconds, size


if __name__ == "__main__":
    main()
