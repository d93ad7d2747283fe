"""What each timeline format keeps: the capability table the export reports and the tests check.

Measured with opentimelineio 0.18.1 and the 1.0.0 adapters (tests/services/test_timeline_roundtrip.py holds the
evidence): OTIO keeps everything; the others keep clip names, positions and durations and lose the rest as listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TimelineFormat = Literal["otio", "edl", "fcp_xml", "fcpx_xml"]


@dataclass(frozen=True)
class FormatCapabilities:
    """One format: its adapter, file and what a round trip through it keeps."""

    name: TimelineFormat
    adapter: str
    extension: str
    mime_type: str
    keeps_alternates: bool
    """Disabled alternate tracks come back as alternates (else: only the first video track is read)."""
    keeps_metadata: bool
    """Prompts, characters and ids in clip metadata survive."""
    keeps_scenes: bool
    """Scene markers (with their nesting path) survive."""
    marker_case_kept: bool
    keeps_end_scenes: bool
    """Scenes after the last clip (empty ones) survive: they are markers on the track, which only OTIO keeps."""
    ntsc_rates: bool
    """The writer accepts 30000/1001 and 24000/1001."""
    drop_frame_markers: bool
    """Markers survive at the drop-frame rates 29.97 and 59.94 (the EDL reader skips drop-frame LOC lines)."""
    loses: str
    """What the user is told the format drops."""


FORMATS: dict[TimelineFormat, FormatCapabilities] = {
    "otio": FormatCapabilities(
        "otio", "otio_json", ".otio", "application/json", keeps_alternates=True, keeps_metadata=True,
        keeps_scenes=True, marker_case_kept=True, keeps_end_scenes=True, ntsc_rates=True, drop_frame_markers=True, loses="nothing",
    ),
    "edl": FormatCapabilities(
        "edl", "cmx_3600", ".edl", "text/plain", keeps_alternates=False, keeps_metadata=False, keeps_scenes=True,
        marker_case_kept=False, keeps_end_scenes=False, ntsc_rates=True, drop_frame_markers=False,
        loses="alternates, audio, metadata, empty end scenes; scene names upper-cased; no scenes at 29.97/59.94 "
        "(drop-frame); reels 8 chars",
    ),
    "fcp_xml": FormatCapabilities(
        "fcp_xml", "fcp_xml", ".xml", "application/xml", keeps_alternates=False, keeps_metadata=False,
        keeps_scenes=True, marker_case_kept=True, keeps_end_scenes=False, ntsc_rates=True, drop_frame_markers=True,
        loses="alternates (read back as plain tracks), metadata, empty end scenes",
    ),
    "fcpx_xml": FormatCapabilities(
        "fcpx_xml", "fcpx_xml", ".fcpxml", "application/xml", keeps_alternates=False, keeps_metadata=False,
        keeps_scenes=True, marker_case_kept=True, keeps_end_scenes=False, ntsc_rates=False, drop_frame_markers=False,
        loses="alternates, metadata, empty end scenes; no NTSC rates (23.976, 29.97, 59.94: writer fails)",
    ),
}

EXTENSIONS: dict[str, TimelineFormat] = {f.extension: f.name for f in FORMATS.values()}


def capability_summary() -> str:
    """One line per format for the tool description."""
    return " | ".join(f"{f.name}: {f.loses}" for f in FORMATS.values())
