"""Revoked access tokens, kept fresh from the authorization server's feed.

The authorization server publishes the ids (`jti`) of revoked, unexpired access tokens
(RFC 7009 revocations, revoked grants, replayed codes, reused refresh tokens) and the
deleted clients whose tokens have not all expired (client-credentials tokens are recorded
nowhere else: every token of such a client with `iat` <= its `revoked_at` is refused), and
the clients whose secret was rotated (their own client-credentials tokens, `sub` =
`client_id`, with `iat` <= `client_credentials_revoked_at` are refused). This
server reads the full lists every `revocation_poll_interval` seconds, so a revoked token
stops working within that interval with no network call on the request path. While the
feed is unreachable the last lists are kept (minus expired entries), and their age, the
time since the last successful poll, grows: `/healthz` shows it, the log warns once it passes
`STALE_POLLS` poll intervals, and `RS_MAX_REVOCATION_AGE` makes the verifier refuse tokens
beyond it.
"""

import asyncio
import base64
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote

import httpx

from shared.json_fetch import fetch_json_object

logger = logging.getLogger(__name__)

FEED_PATH = "/v1/oauth/revoked-tokens"
STALE_POLLS = 3
"""Poll intervals without a successful poll after which the list is called stale (logged)."""


class RevokedTokens:
    """A `jti -> exp` map and a `client_id -> (revoked_at, exp, client_credentials_revoked_at)`
    map, each replaced atomically: lookups need no lock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._entries: Mapping[str, int] = {}
        self._clients: Mapping[str, tuple[int, int, int]] = {}
        self._clock = clock
        self._started_at = clock()
        self.updated_at: float | None = None

    def __contains__(self, jti: object) -> bool:
        return jti in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def revokes(self, jti: str, client_id: str, iat: int, *, sub: str | None = None) -> bool:
        """Whether a token is refused: its id was revoked, its client was deleted after
        issuing it, or (a client-credentials token: `sub` = `client_id`) the client's secret
        was rotated after. Two dictionary lookups, for the request path."""
        if jti in self._entries:
            return True
        client = self._clients.get(client_id)
        if client is None:
            return False
        return iat <= client[0] or (sub == client_id and iat <= client[2])

    def age(self) -> float:
        """Seconds since the last successful poll (since start-up before the first one)."""
        return self._clock() - (self.updated_at or self._started_at)

    @property
    def clients(self) -> Mapping[str, tuple[int, int, int]]:
        return self._clients

    def replace(
        self,
        entries: Iterable[tuple[str, int]],
        clients: Iterable[tuple[str, int, int, int]] = (),
    ) -> None:
        now = self._clock()
        self._entries = {jti: exp for jti, exp in entries if exp > now}
        self._clients = {cid: (at, exp, cc_at) for cid, at, exp, cc_at in clients if exp > now}
        self.updated_at = now

    def prune(self) -> None:
        now = self._clock()
        self._entries = {jti: exp for jti, exp in self._entries.items() if exp > now}
        self._clients = {cid: e for cid, e in self._clients.items() if e[1] > now}


class FeedError(Exception):
    pass


class RevocationFeed:
    """Reads the feed with client_secret_basic (RFC 6749 §2.3.1) into a RevokedTokens."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        url: Callable[[], str],
        client_id: str,
        client_secret: str,
        revoked: RevokedTokens,
    ) -> None:
        self._http = http
        self._url = url
        credentials = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
        self._authorization = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
        self.revoked = revoked
        self.polls = 0

    async def poll_once(self) -> None:
        """Replace the revoked sets with the feed's snapshot. Raises FeedError."""
        url = self._url()
        headers = {"Authorization": self._authorization}
        body = await fetch_json_object(self._http, url, error=FeedError, headers=headers)
        try:
            entries, clients = _entries(body), _revoked_clients(body)
        except ValueError as exc:
            raise FeedError(f"{url}: {exc}") from None
        self.revoked.replace(entries, clients)
        self.polls += 1

    async def run(self, interval: float) -> None:
        """Poll forever; failures are logged and the last known set is kept. A list older
        than `STALE_POLLS` intervals is logged once per stale period, not at every poll."""
        failing = stale = False
        while True:
            try:
                await self.poll_once()
                if failing:
                    logger.info("revocation feed reachable again")
                failing = False
            except FeedError as exc:
                self.revoked.prune()
                if not failing:
                    logger.warning("revocation feed unavailable, keeping the last list: %s", exc)
                failing = True
            age = self.revoked.age()
            if age > STALE_POLLS * interval and not stale:
                logger.warning(
                    "revocation list is stale: last updated %.0f s ago, so a token revoked"
                    " since then is still accepted",
                    age,
                )
                stale = True
            elif age <= STALE_POLLS * interval and stale:
                logger.info("revocation list fresh again")
                stale = False
            await asyncio.sleep(interval)


def _entries(body: object) -> list[tuple[str, int]]:
    if not isinstance(body, dict) or not isinstance(body.get("revoked"), list):
        raise ValueError("feed is not {revoked: [...]}")
    entries: list[tuple[str, int]] = []
    for item in body["revoked"]:
        if not isinstance(item, dict):
            raise ValueError("feed entry is not an object")
        jti, exp = item.get("jti"), item.get("exp")
        if not isinstance(jti, str) or not isinstance(exp, int) or isinstance(exp, bool):
            raise ValueError("feed entry lacks jti or exp")
        entries.append((jti, exp))
    return entries


def _revoked_clients(body: dict[str, object]) -> list[tuple[str, int, int, int]]:
    """`revoked_clients` entries; an authorization server that predates them sends none (and
    one that predates `client_credentials_revoked_at` sends 0, refusing nothing more)."""
    items = body.get("revoked_clients", [])
    if not isinstance(items, list):
        raise ValueError("feed revoked_clients is not a list")
    clients: list[tuple[str, int, int, int]] = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("feed client entry is not an object")
        client_id, revoked_at, exp = item.get("client_id"), item.get("revoked_at"), item.get("exp")
        client_credentials_at = item.get("client_credentials_revoked_at", 0)
        if not isinstance(client_id, str) or not all(
            isinstance(v, int) and not isinstance(v, bool)
            for v in (revoked_at, exp, client_credentials_at)
        ):
            raise ValueError("feed client entry lacks client_id, revoked_at or exp")
        assert isinstance(revoked_at, int) and isinstance(exp, int)
        assert isinstance(client_credentials_at, int)
        clients.append((client_id, revoked_at, exp, client_credentials_at))
    return clients
