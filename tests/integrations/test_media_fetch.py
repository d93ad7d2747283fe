"""import_media's downloader: public addresses only (every hop, connecting to the vetted address), bounded
redirects, media types only, and a size limit enforced while streaming. Fake DNS and an httpx2 MockTransport;
the address rules also against a real HTTP server on 127.0.0.1. No test touches the network."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest

from mcp_storyboard.errors import IntegrationError, ValidationError
from mcp_storyboard.integrations.media_fetch import MediaFetcher
from tests.media_samples import png

PUBLIC = {"cdn.example": ["93.184.216.34"], "other.example": ["151.101.1.69"], "dual.example": ["93.184.216.34", "10.0.0.7"],
          "rebind.example": ["192.168.1.20"], "v6.example": ["2606:2800:220:1:248:1893:25c8:1946"]}
IMAGE = png()


async def fake_dns(host: str, port: int) -> list[str]:
    return PUBLIC.get(host, [])


def fetcher(handler: object, **options: object) -> MediaFetcher:
    return MediaFetcher(transport=httpx2.MockTransport(handler), resolve=fake_dns, **options)  # type: ignore[arg-type]


def serve_image(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, headers={"content-type": "image/png"}, content=IMAGE)


async def test_a_public_file_is_fetched_from_the_vetted_address_under_its_own_host_name() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return serve_image(request)

    download = await fetcher(handler).fetch("https://cdn.example/frames/shot%201.png?sig=secret", max_bytes=10_000)
    assert (download.data, download.content_type, download.filename) == (IMAGE, "image/png", "shot 1.png")
    assert download.url == "https://cdn.example/frames/shot%201.png"  # no query: signed URLs carry tokens there
    # The connection goes to the address that was checked (no second DNS answer can slip in), named as the host.
    assert seen[0].url.host == "93.184.216.34" and seen[0].headers["host"] == "cdn.example"
    assert seen[0].extensions["sni_hostname"] == "cdn.example"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://127.0.0.1/a.png", "127.0.0.1 is a loopback address"),
        ("http://[::1]/a.png", "::1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("http://10.1.2.3/a.png", "10.1.2.3 is a private address"),
        ("http://[::ffff:192.168.0.1]/a.png", "is a private address"),
        ("http://224.0.0.1/a.png", "is a multicast address"),
        ("http://100.64.0.1/a.png", "100.64.0.1 is a non-public address"),  # carrier-grade NAT
        ("http://0.0.0.0/a.png", "0.0.0.0 is an unspecified address"),
        ("http://rebind.example/a.png", "rebind.example (192.168.1.20) is a private address"),
        ("http://dual.example/a.png", "dual.example (10.0.0.7) is a private address"),  # every address is checked
        ("http://nowhere.example/a.png", "host 'nowhere.example' does not resolve"),
        ("ftp://cdn.example/a.png", "is not an http(s) URL"),
        ("file:///etc/passwd", "is not an http(s) URL"),
        ("https://user:pw@cdn.example/a.png", "must not carry a user name or password"),
    ],
)
async def test_urls_outside_the_public_internet_are_refused_before_any_request(url: str, fragment: str) -> None:
    requests: list[httpx2.Request] = []
    with pytest.raises(ValidationError) as refused:
        await fetcher(lambda r: requests.append(r) or serve_image(r)).fetch(url, max_bytes=10_000)
    assert str(refused.value).startswith("url: ") and fragment in str(refused.value)
    assert requests == []


async def test_private_addresses_are_fetched_when_the_setting_allows_them() -> None:
    download = await fetcher(serve_image, allow_private=True).fetch("http://rebind.example/a.png", max_bytes=10_000)
    assert download.data == IMAGE


async def test_every_redirect_hop_is_vetted_and_redirects_are_bounded() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.headers["host"] == "cdn.example" and request.url.path == "/to-private":
            return httpx2.Response(302, headers={"location": "http://169.254.169.254/latest"})
        if request.headers["host"] == "cdn.example" and request.url.path == "/to-other":
            return httpx2.Response(301, headers={"location": "https://other.example/img.png"})
        if request.headers["host"] == "other.example":
            return serve_image(request)
        hop = int(request.url.path.strip("/"))  # /n redirects to /n+1 until /5, which is the file
        return serve_image(request) if hop == 5 else httpx2.Response(307, headers={"location": f"/{hop + 1}"})

    moved = await fetcher(handler).fetch("http://cdn.example/to-other", max_bytes=10_000)
    assert (moved.data, moved.url) == (IMAGE, "https://other.example/img.png")
    with pytest.raises(ValidationError, match=r"url: 169\.254\.169\.254 is a link-local address"):
        await fetcher(handler).fetch("http://cdn.example/to-private", max_bytes=10_000)
    assert (await fetcher(handler).fetch("http://cdn.example/0", max_bytes=10_000)).data == IMAGE  # 5 redirects
    with pytest.raises(ValidationError, match="redirects more than 5 times"):
        await fetcher(handler).fetch("http://cdn.example/-1", max_bytes=10_000)


async def test_the_size_limit_holds_with_and_without_a_content_length() -> None:
    async def trickle() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"\x00" * 1000

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/declared":
            return httpx2.Response(200, headers={"content-type": "video/mp4"}, content=b"\x00" * 5000)
        return httpx2.Response(200, headers={"content-type": "video/mp4"}, content=trickle())

    with pytest.raises(ValidationError, match="is 5000 bytes; the media store takes at most 4096 bytes"):
        await fetcher(handler).fetch("http://cdn.example/declared", max_bytes=4096)
    with pytest.raises(ValidationError, match="is larger than that; the media store takes at most 4096 bytes"):
        await fetcher(handler).fetch("http://cdn.example/streamed", max_bytes=4096)


async def test_pages_errors_and_timeouts_are_reported_with_the_url_but_not_its_query() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/page":
            return httpx2.Response(200, headers={"content-type": "text/html; charset=utf-8"}, content=b"<html>")
        if request.url.path == "/slow":
            raise httpx2.ReadTimeout("slow", request=request)
        if request.url.path == "/generic":
            return httpx2.Response(200, headers={"content-type": "application/octet-stream"}, content=IMAGE)
        return httpx2.Response(404)

    with pytest.raises(ValidationError, match="serves text/html, not an image, video or audio file"):
        await fetcher(handler).fetch("http://cdn.example/page", max_bytes=10_000)
    with pytest.raises(IntegrationError, match=r"http://cdn.example/missing.png answered HTTP 404") as missing:
        await fetcher(handler).fetch("http://cdn.example/missing.png?token=s3cret", max_bytes=10_000)
    assert "s3cret" not in str(missing.value)
    with pytest.raises(IntegrationError, match="timed out"):
        await fetcher(handler).fetch("http://cdn.example/slow", max_bytes=10_000)
    generic = await fetcher(handler).fetch("http://cdn.example/generic", max_bytes=10_000)
    assert generic.content_type is None  # the content decides the type


# -- a real server on 127.0.0.1: refused by default, fetched when private addresses are allowed ------------------
@pytest.fixture
def local_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(IMAGE)))
            self.end_headers()
            self.wfile.write(IMAGE)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_real_loopback_server_is_refused_by_default_and_fetched_when_allowed(local_server: str) -> None:
    port = local_server.rsplit(":", 1)[1]
    for url in (f"{local_server}/a.png", f"http://localhost:{port}/a.png"):  # a literal and a name that resolves there
        with pytest.raises(ValidationError, match="is a loopback address"):
            await MediaFetcher().fetch(url, max_bytes=10_000)
    download = await MediaFetcher(allow_private=True).fetch(f"http://localhost:{port}/frames/a.png", max_bytes=10_000)
    assert (download.data, download.content_type, download.filename) == (IMAGE, "image/png", "a.png")
