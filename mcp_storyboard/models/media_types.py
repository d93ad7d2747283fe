"""Which files the media store accepts, and whether a declared MIME type matches the bytes (pure, no I/O).

The store holds what the storyboard shows or plays: images (generated stills, reference pictures, thumbnails),
videos (generated clips) and audio (soundtracks). The content is identified by its magic bytes with
``puremagic``; the caller's declared type must be one the content can be.
"""

from __future__ import annotations

import mimetypes

from mcp_storyboard.errors import ValidationError

MEDIA_KINDS = ("image/", "video/", "audio/")
ALLOWED_TEXT = "image/*, video/* or audio/* (e.g. image/png, image/jpeg, image/webp, video/mp4, audio/mpeg)"
# SVG is XML that can carry scripts; a host rendering the blob would run them.
REFUSED_TYPES = frozenset({"image/svg+xml"})
_CONFIDENCE_SPREAD = 0.3
GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream"})
"""Served by many file hosts for any download: the content decides the type."""

# Spellings of one format (the key) that hosts and puremagic use interchangeably.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "audio/mp3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/mpeg3": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "video/x-m4v": "video/mp4",
    "video/x-matroska": "video/matroska",
    "application/x-matroska": "video/matroska",
}
# A container format puremagic names by its container: what it may hold.
_CONTAINERS = {
    "application/ogg": ("audio/ogg", "video/ogg", "audio/opus"),
    "video/matroska": ("video/webm", "audio/webm"),
    "video/webm": ("audio/webm",),
    "video/mp4": ("audio/mp4", "image/avif", "image/heic"),
    "video/quicktime": ("video/mp4",),
}


def normalize(mime_type: str) -> str:
    """``mime_type`` lower-cased, without parameters, with aliases folded (``image/jpg`` → ``image/jpeg``)."""
    bare = mime_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(bare, bare)


def is_media_type(mime_type: str) -> bool:
    """True for an image, video or audio type the store accepts."""
    bare = normalize(mime_type)
    return bare.startswith(MEDIA_KINDS) and bare not in REFUSED_TYPES


def sniff(data: bytes) -> list[str]:
    """The MIME types the content may be, most likely first (empty: no known signature)."""
    if not data:
        return []
    import puremagic  # here: its signature tables load in ~20 ms, which only an upload needs, not every start

    try:
        matches = puremagic.magic_string(data)
    except (puremagic.PureError, ValueError):
        return []
    top = max(m.confidence for m in matches)
    named: list[tuple[str, float]] = []
    for match in matches:
        # Weak matches of a shared container header (RIFF, ID3) name unrelated formats: keep the strong ones.
        if match.confidence < top - _CONFIDENCE_SPREAD:
            continue
        # puremagic leaves some types empty but names the extension; the extension's registered type fills in.
        raw = match.mime_type or (mimetypes.guess_type("file" + match.extension)[0] if match.extension else None)
        if raw:
            named.append((raw, match.confidence))
    # A vendor format that shares a common format's signature (ID3: audiokoz and mp3) comes after it.
    named.sort(key=lambda item: ("/vnd." in item[0], -item[1]))
    found: list[str] = []
    for raw, _ in named:
        found.append(normalize(raw))
        found.extend(_CONTAINERS.get(raw, ()))
        found.extend(_CONTAINERS.get(normalize(raw), ()))
    return list(dict.fromkeys(found))


def _best_media(candidates: list[str]) -> str | None:
    return next((c for c in candidates if is_media_type(c)), None)


def check_content(data: bytes, declared: str | None, *, field: str = "mime_type") -> str:
    """The MIME type to store ``data`` under: ``declared`` (normalised) when the content can be that, or the
    sniffed type when ``declared`` is None or generic (``application/octet-stream``).

    Raises:
        ValidationError: ``declared`` is not an image, video or audio type; the content has no known image, video
            or audio signature; or the content is something other than ``declared`` (naming both).
    """
    wanted = normalize(declared) if declared is not None else None
    if wanted is not None and wanted not in GENERIC_TYPES and not is_media_type(wanted):
        reason = "SVG can carry scripts" if wanted in REFUSED_TYPES else "the store keeps images, video and audio"
        raise ValidationError(field, f"'{declared}' is not accepted ({reason})", hint=f"allowed: {ALLOWED_TEXT}")
    candidates = sniff(data)
    best = _best_media(candidates)
    if best is None:
        looks = f" (it looks like {candidates[0]})" if candidates else ""
        raise ValidationError(
            "content",
            f"is not a recognised image, video or audio file{looks}",
            hint=f"send the file's own bytes; allowed: {ALLOWED_TEXT}",
        )
    if wanted is None or wanted in GENERIC_TYPES:
        return best
    if wanted not in candidates:
        raise ValidationError(
            field,
            f"'{declared}' does not match the content, which is {best}",
            hint=f"send mime_type {best}, or the file that really is {wanted}",
        )
    return wanted
