"""The revoked-token feed: authenticated polling into an atomically replaced set."""

import asyncio
import logging
import time

import httpx
import pytest

from services.resource_server.revocation import FeedError, RevocationFeed, RevokedTokens
from tests.resource_server.conftest import ISSUER, FakeAuthorizationServer

FEED_URL = f"{ISSUER}/v1/oauth/revoked-tokens"


def _feed(fake: FakeAuthorizationServer, *, secret: str = "feed-secret") -> RevocationFeed:
    return RevocationFeed(
        httpx.AsyncClient(transport=fake.transport),
        url=lambda: FEED_URL,
        client_id="rs-feed",
        client_secret=secret,
        revoked=RevokedTokens(),
    )


def test_poll_replaces_the_set_and_drops_expired_entries(
    fake_as: FakeAuthorizationServer,
) -> None:
    now = int(time.time())
    fake_as.revoked = [{"jti": "a", "exp": now + 60}, {"jti": "old", "exp": now - 1}]
    feed = _feed(fake_as)
    asyncio.run(feed.poll_once())
    assert "a" in feed.revoked and "old" not in feed.revoked
    fake_as.revoked = [{"jti": "b", "exp": now + 60}]
    asyncio.run(feed.poll_once())
    assert "b" in feed.revoked and "a" not in feed.revoked  # a full snapshot each time
    assert len(feed.revoked) == 1


def test_poll_replaces_the_deleted_clients_and_drops_expired_ones(
    fake_as: FakeAuthorizationServer,
) -> None:
    now = int(time.time())
    fake_as.revoked_clients = [
        {"client_id": "gone", "revoked_at": now - 5, "exp": now + 60},
        {"client_id": "long-gone", "revoked_at": now - 7200, "exp": now - 1},
    ]
    feed = _feed(fake_as)
    asyncio.run(feed.poll_once())
    assert feed.revoked.clients == {"gone": (now - 5, now + 60, 0)}
    assert feed.revoked.revokes("any-jti", "gone", now - 5)
    assert not feed.revoked.revokes("any-jti", "gone", now - 4)  # issued after the deletion
    assert not feed.revoked.revokes("any-jti", "long-gone", now - 7200)
    fake_as.revoked_clients = []
    asyncio.run(feed.poll_once())
    assert feed.revoked.clients == {}  # a full snapshot each time


def test_a_feed_without_revoked_clients_is_accepted() -> None:
    """An authorization server that predates `revoked_clients` sends only `revoked`."""

    def older(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"revoked": [], "generated_at": 0})

    feed = RevocationFeed(
        httpx.AsyncClient(transport=httpx.MockTransport(older)),
        url=lambda: FEED_URL,
        client_id="rs-feed",
        client_secret="feed-secret",
        revoked=RevokedTokens(),
    )
    asyncio.run(feed.poll_once())
    assert feed.polls == 1 and feed.revoked.clients == {}


def test_feed_uses_client_secret_basic(fake_as: FakeAuthorizationServer) -> None:
    with pytest.raises(FeedError, match="HTTP 401"):
        asyncio.run(_feed(fake_as, secret="wrong").poll_once())


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([], id="not-object"),
        pytest.param({"revoked": "x"}, id="not-list"),
        pytest.param({"revoked": [{"jti": 1, "exp": 2}]}, id="jti-not-string"),
        pytest.param({"revoked": [{"jti": "a", "exp": "soon"}]}, id="exp-not-int"),
        pytest.param({"revoked": ["a"]}, id="entry-not-object"),
        pytest.param({"revoked": [], "revoked_clients": {}}, id="clients-not-list"),
        pytest.param({"revoked": [], "revoked_clients": ["app"]}, id="client-not-object"),
        pytest.param(
            {"revoked": [], "revoked_clients": [{"client_id": "app", "exp": 2}]},
            id="client-without-revoked-at",
        ),
        pytest.param(
            {"revoked": [], "revoked_clients": [{"client_id": 1, "revoked_at": 1, "exp": 2}]},
            id="client-id-not-string",
        ),
    ],
)
def test_malformed_feed_keeps_the_last_set(fake_as: FakeAuthorizationServer, body: object) -> None:
    fake_as.revoked = [{"jti": "kept", "exp": int(time.time()) + 60}]
    fake_as.revoked_clients = [{"client_id": "kept-app", "revoked_at": 1, "exp": 2**40}]
    feed = _feed(fake_as)
    asyncio.run(feed.poll_once())

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    feed._http = httpx.AsyncClient(transport=httpx.MockTransport(broken))
    with pytest.raises(FeedError):
        asyncio.run(feed.poll_once())
    assert "kept" in feed.revoked
    assert "kept-app" in feed.revoked.clients


def test_run_survives_an_unreachable_server(fake_as: FakeAuthorizationServer) -> None:
    fake_as.revoked = [{"jti": "kept", "exp": int(time.time()) + 60}]
    feed = _feed(fake_as)

    async def scenario() -> None:
        task = asyncio.create_task(feed.run(0.01))
        await asyncio.sleep(0.05)
        fake_as.down = True
        await asyncio.sleep(0.05)
        assert not task.done()  # failures are logged, the loop goes on
        fake_as.down = False
        fake_as.revoked = []
        await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(scenario())
    assert "kept" not in feed.revoked  # the feed came back and emptied the set
    assert feed.polls >= 2


def test_age_counts_from_the_last_successful_poll(fake_as: FakeAuthorizationServer) -> None:
    now = [1000.0]
    revoked = RevokedTokens(clock=lambda: now[0])
    now[0] += 7
    assert revoked.age() == 7  # never polled: as old as the process
    revoked.replace([])
    now[0] += 2
    assert revoked.age() == 2
    revoked.prune()  # a failed poll prunes but does not refresh
    assert revoked.age() == 2


def test_a_stale_list_is_logged_once_per_stale_period(
    fake_as: FakeAuthorizationServer, caplog: pytest.LogCaptureFixture
) -> None:
    feed = _feed(fake_as)

    async def scenario() -> None:
        task = asyncio.create_task(feed.run(0.01))
        await asyncio.sleep(0.05)
        fake_as.down = True
        await asyncio.sleep(0.2)  # some twenty failed polls, far past three intervals
        fake_as.down = False
        await asyncio.sleep(0.05)
        fake_as.down = True
        await asyncio.sleep(0.2)
        task.cancel()

    with caplog.at_level(logging.INFO, logger="services.resource_server.revocation"):
        asyncio.run(scenario())
    stale = [r for r in caplog.records if "revocation list is stale" in r.getMessage()]
    fresh = [r for r in caplog.records if "fresh again" in r.getMessage()]
    assert len(stale) == 2 and all(r.levelno == logging.WARNING for r in stale)
    assert len(fresh) == 1


def test_a_rotated_secret_refuses_the_apps_own_tokens_only(
    fake_as: FakeAuthorizationServer,
) -> None:
    now = int(time.time())
    fake_as.revoked_clients = [
        {"client_id": "app", "revoked_at": 0, "exp": now + 60, "client_credentials_revoked_at": now}
    ]
    feed = _feed(fake_as)
    asyncio.run(feed.poll_once())
    assert feed.revoked.revokes("j", "app", now, sub="app")  # its client-credentials token
    assert not feed.revoked.revokes("j", "app", now + 1, sub="app")  # issued after the cut-off
    assert not feed.revoked.revokes("j", "app", now, sub="user-1")  # a user's token
    fake_as.revoked_clients = [
        {"client_id": "app", "revoked_at": 0, "exp": now + 60, "client_credentials_revoked_at": "x"}
    ]
    with pytest.raises(FeedError):
        asyncio.run(feed.poll_once())
