"""The 2025-era subscription registry: a subscriber that fails or stalls is dropped, the others still hear."""

from __future__ import annotations

import anyio
import pytest
from mcp.server.connection import Connection

from mcp_storyboard.server import subscriptions
from mcp_storyboard.server.subscriptions import LegacySubscriptions

pytestmark = pytest.mark.anyio
URI = "storyboard://projects/p1"


class RecordingSession:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_resource_updated(self, uri: str) -> None:
        self.sent.append(uri)


class BrokenSession:
    async def send_resource_updated(self, uri: str) -> None:
        raise anyio.BrokenResourceError


class StalledSession:
    async def send_resource_updated(self, uri: str) -> None:
        await anyio.sleep_forever()


def a_connection() -> Connection:
    return Connection(object(), protocol_version="2025-11-25")  # type: ignore[arg-type]


async def test_a_subscriber_whose_send_fails_is_dropped_and_the_others_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = LegacySubscriptions()
    healthy, broken = a_connection(), a_connection()
    session = RecordingSession()
    registry.add(healthy, session, URI)  # type: ignore[arg-type]
    registry.add(broken, BrokenSession(), URI)  # type: ignore[arg-type]
    await registry.publish([URI])
    assert session.sent == [URI]
    assert registry.uris_of(broken) == set()
    assert registry.uris_of(healthy) == {URI}
    assert "dropped the resource subscriptions of a client" in caplog.text


async def test_a_subscriber_that_stalls_is_dropped_instead_of_holding_up_the_writer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(subscriptions, "SEND_TIMEOUT_S", 0.05)
    registry = LegacySubscriptions()
    stalled, healthy = a_connection(), a_connection()
    session = RecordingSession()
    registry.add(stalled, StalledSession(), URI)  # type: ignore[arg-type]
    registry.add(stalled, StalledSession(), "storyboard://projects")  # type: ignore[arg-type]
    registry.add(healthy, session, URI)  # type: ignore[arg-type]
    with anyio.fail_after(5):
        await registry.publish([URI])
    assert registry.uris_of(stalled) == set()  # every subscription of it, not only the stalled URI's
    assert session.sent == [URI]


async def test_publish_sends_each_subscribed_uri_once_and_skips_the_rest() -> None:
    registry = LegacySubscriptions()
    connection = a_connection()
    session = RecordingSession()
    registry.add(connection, session, URI)  # type: ignore[arg-type]
    registry.add(connection, session, "storyboard://projects")  # type: ignore[arg-type]
    await registry.publish([URI, "storyboard://clips/c1", URI, "storyboard://projects"])
    assert session.sent == [URI, "storyboard://projects"]


def test_a_connection_is_watched_once_and_forgotten_when_closed() -> None:
    registry = LegacySubscriptions()
    connection = a_connection()
    session = RecordingSession()
    assert registry.add(connection, session, URI) is True  # type: ignore[arg-type]
    assert registry.add(connection, session, "storyboard://projects") is False  # type: ignore[arg-type]
    registry.remove(connection, URI)
    registry.remove(connection, URI)
    assert registry.uris_of(connection) == {"storyboard://projects"}
    registry.closed(connection)
    assert registry.uris_of(connection) == set()
    assert registry.add(connection, session, URI) is True  # type: ignore[arg-type]


def test_a_connection_cannot_hold_more_than_the_cap_but_may_resubscribe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subscriptions, "MAX_PER_CONNECTION", 2)
    registry = LegacySubscriptions()
    connection, other = a_connection(), a_connection()
    session = RecordingSession()
    registry.add(connection, session, "storyboard://a")  # type: ignore[arg-type]
    registry.add(connection, session, "storyboard://b")  # type: ignore[arg-type]
    registry.add(connection, session, "storyboard://b")  # type: ignore[arg-type]  # already held: not a new one
    with pytest.raises(subscriptions.TooManySubscriptionsError):
        registry.add(connection, session, "storyboard://c")  # type: ignore[arg-type]
    registry.add(other, session, "storyboard://c")  # type: ignore[arg-type]  # the cap is per connection
    assert registry.uris_of(connection) == {"storyboard://a", "storyboard://b"}
