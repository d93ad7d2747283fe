"""Frame-accurate timing: the one place where seconds become frames and frames become seconds.

Rates are exact fractions: 29.97 and 23.976 are 30000/1001 and 24000/1001 (the adapters refuse or mis-read the
floats). A clip's start and end on the exported timeline are each rounded to the nearest frame (halves up) once,
and its duration is the difference, so clips that touch in seconds still touch in frames and rounding never
accumulates along a timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal, get_args

from mcp_storyboard.lazy_import import lazy_module

if TYPE_CHECKING:
    import opentimelineio as otio  # type: ignore[import-untyped]  # ships no type information
else:
    otio = lazy_module("opentimelineio")  # imported on first use: not needed to start the server

FrameRateName = Literal["23.976", "24", "25", "29.97", "30", "50", "59.94", "60"]
FRAME_RATES: dict[str, Fraction] = {
    "23.976": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
    "30": Fraction(30),
    "50": Fraction(50),
    "59.94": Fraction(60000, 1001),
    "60": Fraction(60),
}
assert set(FRAME_RATES) == set(get_args(FrameRateName))


@dataclass(frozen=True)
class FrameRate:
    """A frame rate by its usual name, with its exact value."""

    name: str
    value: Fraction

    @classmethod
    def named(cls, name: str) -> FrameRate:
        return cls(name, FRAME_RATES[name])

    @classmethod
    def nearest(cls, rate: float) -> FrameRate:
        """The known rate closest to a float one read from a file (29.97002997 is 30000/1001)."""
        name = min(FRAME_RATES, key=lambda n: abs(float(FRAME_RATES[n]) - rate))
        return cls.named(name)

    @property
    def is_ntsc(self) -> bool:
        return self.value.denominator == 1001

    @property
    def is_drop_frame(self) -> bool:
        """29.97 and 59.94, whose timecodes an EDL writes drop-frame."""
        return self.is_ntsc and self.value.numerator % 30000 == 0

    @property
    def otio_rate(self) -> float:
        # OpenTimelineIO keeps a rate as a double; 30000/1001 as a double is what its adapters recognise.
        return self.value.numerator / self.value.denominator

    def frame_at(self, seconds: float) -> int:
        """The frame nearest to ``seconds`` (halves round up): the only rounding of a time on export."""
        exact = _exact(seconds) * self.value
        return int((exact + Fraction(1, 2)).__floor__())

    def on_frame(self, seconds: float) -> bool:
        """Whether ``seconds`` falls exactly on a frame (so rounding does not move it)."""
        return (_exact(seconds) * self.value).denominator == 1

    def seconds(self, frames: int) -> float:
        """Seconds of ``frames`` frames, rounded to the 2 decimals positions are stored with."""
        return round(float(Fraction(frames) / self.value), 2) + 0.0

    def time(self, frames: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(frames, self.otio_rate)

    def range(self, start: int, duration: int) -> otio.opentime.TimeRange:
        return otio.opentime.TimeRange(self.time(start), self.time(duration))

    def frames(self, time: otio.opentime.RationalTime) -> int:
        """Whole frames of an OTIO time read from a file, at this rate."""
        exact = Fraction(time.value).limit_denominator(1_000_000) * self.value
        exact /= Fraction(time.rate).limit_denominator(1001) if time.rate else 1
        return int((exact + Fraction(1, 2)).__floor__())


def _exact(seconds: float) -> Fraction:
    # Positions are stored with 2 decimals: read them as the decimals they are (to the microsecond), not as their
    # binary neighbours, so 0.1 s is exactly 2.4 frames at 24 fps.
    return Fraction(round(seconds * 1_000_000), 1_000_000)
