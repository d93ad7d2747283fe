"""The media store's content rule: images, video and audio only, and a declared type must be what the bytes are."""

from __future__ import annotations

import pytest

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.models.media_types import check_content, is_media_type, normalize, sniff
from tests.media_samples import JPEG, MP3, MP4, PDF, SVG, WAV, png


@pytest.mark.parametrize(
    ("data", "declared", "stored"),
    [
        (png(), "image/png", "image/png"),
        (JPEG, "image/jpeg", "image/jpeg"),
        (JPEG, "IMAGE/JPG", "image/jpeg"),  # an alias and any case: stored under the common spelling
        (MP4, "video/mp4", "video/mp4"),
        (MP3, "audio/mpeg", "audio/mpeg"),
        (WAV, "audio/x-wav", "audio/wav"),
        (png(), "image/png; charset=binary", "image/png"),
        (MP4, "application/octet-stream", "video/mp4"),  # a generic type: the content decides
        (MP3, None, "audio/mpeg"),
    ],
)
def test_a_declared_type_the_content_can_be_is_stored_normalised(data: bytes, declared: str | None, stored: str) -> None:
    assert check_content(data, declared) == stored


def test_a_declared_type_that_disagrees_with_the_content_is_refused_naming_both() -> None:
    with pytest.raises(ValidationError) as refused:
        check_content(png(), "image/jpeg")
    assert str(refused.value).startswith("mime_type: 'image/jpeg' does not match the content, which is image/png")
    with pytest.raises(ValidationError, match="'video/mp4' does not match the content, which is audio/mpeg"):
        check_content(MP3, "video/mp4")


@pytest.mark.parametrize(
    ("data", "declared", "fragment"),
    [
        (b"just some text", "text/plain", "mime_type: 'text/plain' is not accepted"),
        (SVG, "image/svg+xml", "SVG can carry scripts"),
        (b"just some text", "image/png", "content: is not a recognised image, video or audio file"),
        (PDF, "application/octet-stream", "(it looks like application/pdf)"),
        (b"", "image/png", "content: is not a recognised"),
    ],
)
def test_anything_but_image_video_or_audio_is_refused_with_the_allowed_kinds(
    data: bytes, declared: str, fragment: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        check_content(data, declared)
    assert fragment in str(refused.value) and "image/*, video/* or audio/*" in str(refused.value)


def test_sniffing_puts_the_common_format_first_and_folds_aliases() -> None:
    assert sniff(MP3)[0] == "audio/mpeg"  # ID3 also starts an obscure vendor format
    assert sniff(png()) == ["image/png"]
    assert normalize(" Audio/X-WAV ; codecs=1") == "audio/wav"
    assert is_media_type("video/webm") and not is_media_type("image/svg+xml") and not is_media_type("text/html")
