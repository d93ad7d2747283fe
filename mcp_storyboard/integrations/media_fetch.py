"""Download a media file from an http(s) URL for ``import_media``: bounded in size, time and redirects, and only
from public addresses unless the configuration allows private ones.

Redirects are followed here, hop by hop, so every hop's host is resolved and vetted
(:func:`~mcp_storyboard.integrations.addresses.vetted_address`) and the request goes to that vetted address (the
``Host`` header and TLS server name stay the URL's host, so certificates are still checked against it).
The transport and the resolver are injectable: tests pass an ``httpx2.MockTransport`` and a fake resolver.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import unquote

import anyio
import httpx2

from mcp_storyboard.errors import IntegrationError, ValidationError
from mcp_storyboard.integrations.addresses import Resolver, parse_address, system_resolve, vetted_address
from mcp_storyboard.models.media_types import GENERIC_TYPES, is_media_type, normalize

MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
TOTAL_TIMEOUT = 300.0
"""Seconds for the whole download: a server trickling bytes cannot hold a tool call open for longer."""
_ACCEPT = "image/*, video/*, audio/*;q=0.9, application/octet-stream;q=0.5"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Download:
    """A fetched file."""

    data: bytes
    content_type: str | None
    """The server's media type (no parameters), or None when it sent none or a generic one."""
    filename: str
    """The last path segment of the final URL (``download`` when it has none)."""
    url: str
    """The final URL after redirects, without its query string."""


def shown(url: httpx2.URL) -> str:
    """``url`` for messages and logs: no user info, no query (signed URLs carry tokens there)."""
    return str(url.copy_with(query=None, fragment=None, userinfo=b""))


class MediaFetcher:
    """Fetches media files over http(s) with the limits above."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        transport: httpx2.AsyncBaseTransport | None = None,
        resolve: Resolver = system_resolve,
        max_redirects: int = MAX_REDIRECTS,
        total_timeout: float = TOTAL_TIMEOUT,
    ) -> None:
        self.allow_private = allow_private
        self.transport = transport
        self.resolve = resolve
        self.max_redirects = max_redirects
        self.total_timeout = total_timeout

    async def fetch(self, url: str, *, max_bytes: int) -> Download:
        """Download ``url`` (following at most ``max_redirects`` redirects), at most ``max_bytes`` bytes.

        Raises:
            ValidationError: (field ``url``) not an http(s) URL, a host that does not resolve or is not public,
                too many redirects, a type that is not image/video/audio, or more than ``max_bytes`` bytes.
            IntegrationError: the server failed, answered an error status, or timed out.
        """
        target = _parse(url)
        timeout = httpx2.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
        # trust_env off: a proxy from the environment would connect to the host itself, past the address check.
        async with httpx2.AsyncClient(transport=self.transport, timeout=timeout, trust_env=False) as client:
            try:
                with anyio.fail_after(self.total_timeout):
                    for _ in range(self.max_redirects + 1):
                        result = await self._hop(client, target, max_bytes)
                        if isinstance(result, Download):
                            return result
                        target = result
            except TimeoutError:
                raise IntegrationError(f"fetching {shown(target)} took longer than {self.total_timeout:g} s") from None
            except httpx2.TimeoutException:
                raise IntegrationError(f"{shown(target)} timed out", hint="try again later or another URL") from None
            except httpx2.HTTPError as exc:
                raise IntegrationError(
                    f"could not fetch {shown(target)} ({type(exc).__name__})", hint="check the URL and try again"
                ) from None
        raise ValidationError("url", f"{url_text(url)} redirects more than {self.max_redirects} times",
                              hint="give the file's final URL")

    async def _hop(self, client: httpx2.AsyncClient, target: httpx2.URL, max_bytes: int) -> Download | httpx2.URL:
        port = target.port or (443 if target.scheme == "https" else 80)
        address = await vetted_address(target.host, port, resolve=self.resolve, allow_private=self.allow_private)
        headers = {"Host": target.netloc.decode("ascii"), "Accept": _ACCEPT, "User-Agent": "mcp-storyboard"}
        extensions = {"sni_hostname": target.host} if target.scheme == "https" and not parse_address(target.host) else {}
        pinned = target.copy_with(host=address)
        async with client.stream("GET", pinned, headers=headers, extensions=extensions) as response:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                return _parse(str(target.join(response.headers["location"])), field_text="a redirect")
            if response.status_code != 200:
                raise IntegrationError(
                    f"{shown(target)} answered HTTP {response.status_code}", hint="check the URL, or try again later"
                )
            content_type = _media_type(target, response.headers.get("content-type"))
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_big(target, int(declared), max_bytes)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:  # stop reading: a server may lie about or omit Content-Length
                    raise _too_big(target, None, max_bytes)
                chunks.append(chunk)
        name = posixpath.basename(unquote(target.path)) or "download"
        return Download(data=b"".join(chunks), content_type=content_type, filename=name[:255], url=shown(target))


def url_text(url: str) -> str:
    try:
        return shown(httpx2.URL(url))
    except httpx2.InvalidURL:
        return "the URL"


def _parse(url: str, *, field_text: str = "url") -> httpx2.URL:
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL:
        raise ValidationError("url", f"{field_text} is not a valid URL", hint="give an http:// or https:// URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        what = "the URL" if field_text == "url" else f"{field_text} to {shown(parsed)}"
        raise ValidationError("url", f"{what} is not an http(s) URL with a host", allowed=("http://...", "https://..."))
    if parsed.userinfo:
        raise ValidationError("url", "must not carry a user name or password", hint="give a URL without user info")
    return parsed


def _media_type(target: httpx2.URL, header: str | None) -> str | None:
    if header is None or normalize(header) in GENERIC_TYPES:
        return None
    if not is_media_type(header):
        raise ValidationError(
            "url",
            f"{shown(target)} serves {normalize(header)}, not an image, video or audio file",
            hint="give the URL of the file itself, not of a page showing it",
        )
    return normalize(header)


def _too_big(target: httpx2.URL, size: int | None, max_bytes: int) -> ValidationError:
    what = f"is {size} bytes" if size is not None else "is larger than that"
    return ValidationError(
        "url",
        f"{shown(target)} {what}; the media store takes at most {max_bytes} bytes",
        hint="raise STORYBOARD_MEDIA_MAX_BYTES or use a smaller file",
    )
