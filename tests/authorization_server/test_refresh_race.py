"""Concurrent refreshes with one refresh token, and faults mid-refresh, on a live server.

Requests are released together by a barrier, each on its own warmed-up connection, against
a real uvicorn process: exactly one rotates, the others take the grace path.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from services.authorization_server.context import ServerContext
from services.authorization_server.models import (
    AuthorizationCode,
    Client,
    RefreshToken,
    TokenFamily,
    User,
)
from shared.crypto import hash_token
from tests.authorization_server.state import revoked_jtis
from tests.authorization_server.tokens_over_http import (
    access_token_jti,
    authorization_code_tokens,
    concurrent_refreshes,
    concurrent_token_requests,
    refresh,
)
from tests.databases import TestDatabases
from tests.factories import VERIFIER, make_auth_code, make_client, make_user
from tests.harness.authorization_server import AuthorizationServer


@dataclass
class World:
    server: AuthorizationServer
    context: ServerContext
    user: User
    client: Client
    secret: str
    other: Client
    other_secret: str

    def grant(self) -> dict[str, Any]:
        """Fresh tokens (a new family) from the code exchange."""
        return authorization_code_tokens(
            self.server, self.context, client=self.client, secret=self.secret, user=self.user
        )

    def refresh(self, refresh_token: str) -> httpx.Response:
        return refresh(
            self.server, client=self.client, secret=self.secret, refresh_token=refresh_token
        )


@pytest.fixture(scope="module")
def world(live_as: AuthorizationServer, live_context: ServerContext) -> World:
    user = make_user(live_context)
    client, secret = make_client(live_context)
    other, other_secret = make_client(live_context, name="Other")
    assert secret and other_secret
    return World(live_as, live_context, user, client, secret, other, other_secret)


def _family_tokens(context: ServerContext, refresh_token: str) -> list[RefreshToken]:
    """Every stored refresh token of the family `refresh_token` belongs to."""
    with Session(context.engine) as session:
        token = session.get(RefreshToken, hash_token(refresh_token))
        assert token is not None, "the token is gone: its family was revoked"
        return list(
            session.exec(select(RefreshToken).where(RefreshToken.family_id == token.family_id))
        )


@pytest.mark.parametrize("concurrency", [8, 16])
def test_concurrent_refreshes_share_one_successor(world: World, concurrency: int) -> None:
    tokens = world.grant()
    auth = (world.client.client_id, world.secret)
    responses = concurrent_refreshes(world.server, [(auth, tokens["refresh_token"])] * concurrency)
    assert len(responses) == concurrency
    assert [r.status_code for r in responses] == [200] * concurrency, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    successors = {body["refresh_token"] for body in bodies}
    assert len(successors) == 1
    (successor,) = successors
    assert len({body["access_token"] for body in bodies}) == concurrency
    family = _family_tokens(world.context, tokens["refresh_token"])
    live = [row.token_hash for row in family if row.rotated_at is None]
    assert live == [hash_token(successor)]  # never more than one live token: no fork
    jtis = {access_token_jti(body) for body in bodies}
    assert not jtis & revoked_jtis(world.context.engine)  # nothing was revoked
    after = world.refresh(successor)
    assert after.status_code == 200, after.text
    assert world.refresh(after.json()["refresh_token"]).status_code == 200


def test_another_client_in_the_race_gets_no_grace(world: World) -> None:
    tokens = world.grant()
    auth = (world.client.client_id, world.secret)
    other = (world.other.client_id, world.other_secret)
    requests = [(auth, tokens["refresh_token"])] * 6 + [(other, tokens["refresh_token"])] * 2
    responses = concurrent_refreshes(world.server, requests)
    assert [r.status_code for r in responses] == [200] * 6 + [400] * 2
    assert {r.json()["error"] for r in responses[6:]} == {"invalid_grant"}
    assert len({r.json()["refresh_token"] for r in responses[:6]}) == 1
    assert world.refresh(responses[0].json()["refresh_token"]).status_code == 200


def test_a_thief_replaying_a_public_clients_rotated_token_gets_nothing(world: World) -> None:
    """Issue 18: within the (confidential clients') grace window, anyone replaying a public
    client's rotated token got its successor. Now it is reuse: the grant is revoked."""
    public, secret = make_client(world.context, name="Dropletbook Mobile", client_type="public")
    assert secret is None
    tokens = authorization_code_tokens(
        world.server, world.context, client=public, secret=None, user=world.user
    )

    def refresh_public(refresh_token: str) -> httpx.Response:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": public.client_id,
        }
        return world.server.post("/v1/oauth/token", data=form)

    legitimate = refresh_public(tokens["refresh_token"])
    assert legitimate.status_code == 200, legitimate.text
    stolen = refresh_public(tokens["refresh_token"])  # at once: well inside the 10 s window
    assert stolen.status_code == 400
    assert stolen.json() == {
        "error": "invalid_grant",
        "error_description": "refresh token already used; the grant is revoked",
    }
    assert refresh_public(legitimate.json()["refresh_token"]).status_code == 400
    issued = {access_token_jti(tokens), access_token_jti(legitimate.json())}
    assert issued <= revoked_jtis(world.context.engine)
    # A confidential client still gets its window.
    confidential = world.grant()
    first = world.refresh(confidential["refresh_token"])
    again = world.refresh(confidential["refresh_token"])
    assert again.status_code == 200
    assert again.json()["refresh_token"] == first.json()["refresh_token"]


def _cut_off(world: World, lock: str, row_id: str, request: Callable[[], httpx.Response]) -> None:
    """Send `request` while another transaction holds `lock` (a `SELECT … FOR UPDATE` of
    `row_id`) and kill the request's database connection once it waits on it: its answer
    must be a detail-free server_error."""
    url = world.context.settings.database_url
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as admin:
        holder.execute(lock, (row_id,))
        result: list[httpx.Response] = []
        thread = threading.Thread(target=lambda: result.append(request()))
        thread.start()
        blocked = _wait_for_blocked_backend(admin, holder.info.backend_pid)
        admin.execute("SELECT pg_terminate_backend(%s)", (blocked,))
        thread.join(timeout=30)
        holder.rollback()
    (response,) = result
    assert response.status_code == 500
    assert response.json() == {"error": "server_error"}
    assert response.headers["cache-control"] == "no-store"


def test_a_refresh_cut_off_mid_transaction_changes_nothing(
    world: World, databases: TestDatabases
) -> None:
    """The request's database connection is killed while it waits inside its transaction
    (after the rotation, before the successor's insert): a server_error, and the old token
    still works because nothing was committed."""
    if not databases.is_postgres:
        pytest.skip("terminates a PostgreSQL backend (pg_terminate_backend)")
    tokens = world.grant()
    family_id = _family_tokens(world.context, tokens["refresh_token"])[0].family_id
    # Locking the family row blocks the request's inserts (their foreign key check).
    lock = "SELECT id FROM tokenfamily WHERE id = %s FOR UPDATE"
    _cut_off(world, lock, family_id, lambda: world.refresh(tokens["refresh_token"]))
    family = _family_tokens(world.context, tokens["refresh_token"])
    assert [row.rotated_at for row in family] == [None]  # not rotated, no successor
    retry = world.refresh(tokens["refresh_token"])
    assert retry.status_code == 200, retry.text
    assert world.refresh(retry.json()["refresh_token"]).status_code == 200


def test_a_code_exchange_cut_off_mid_transaction_changes_nothing(
    world: World, databases: TestDatabases
) -> None:
    """Killed after the code was consumed, before the grant's insert: a server_error, the
    code unconsumed and no grant made, so the client's retry with the same code works."""
    if not databases.is_postgres:
        pytest.skip("terminates a PostgreSQL backend (pg_terminate_backend)")
    code = make_auth_code(world.context, client=world.client, user=world.user)
    form, auth = _code_exchange(world, code)

    def exchange() -> httpx.Response:
        return world.server.post("/v1/oauth/token", data=form, auth=auth)

    families = _families(world)
    # Locking the user's row blocks the new family's insert (its foreign key check).
    _cut_off(world, 'SELECT id FROM "user" WHERE id = %s FOR UPDATE', world.user.id, exchange)
    with Session(world.context.engine) as session:
        stored = session.get(AuthorizationCode, hash_token(code))
        assert stored is not None
        assert (stored.consumed_at, stored.token_family_id) == (None, None)
    assert _families(world) == families
    retry = exchange()
    assert retry.status_code == 200, retry.text
    assert world.refresh(retry.json()["refresh_token"]).status_code == 200


@pytest.mark.parametrize("concurrency", [8, 16])
def test_concurrent_exchanges_of_one_code_make_one_grant(world: World, concurrency: int) -> None:
    """Exactly one exchange consumes the code; the others are replays (RFC 6749 §10.5): they
    are refused, and the grant the code made is revoked."""
    code = make_auth_code(world.context, client=world.client, user=world.user)
    form, auth = _code_exchange(world, code)
    families = _families(world)
    responses = concurrent_token_requests(world.server, [(auth, form)] * concurrency)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [400] * (concurrency - 1)
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
    (new_family,) = _families(world) - families
    with Session(world.context.engine) as session:
        family = session.get(TokenFamily, new_family)
        assert family is not None and family.revoked_at is not None
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    assert world.refresh(winner["refresh_token"]).json()["error"] == "invalid_grant"


def _code_exchange(world: World, code: str) -> tuple[dict[str, str], tuple[str, str]]:
    """The form and credentials of the world client's exchange of `code`."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": world.client.redirect_uris[0],
        "code_verifier": VERIFIER,
    }
    return form, (world.client.client_id, world.secret)


def _families(world: World) -> set[str]:
    with Session(world.context.engine) as session:
        return set(session.exec(select(TokenFamily.id)))


def test_a_client_that_gave_up_waiting_gets_the_same_tokens_on_retry(world: World) -> None:
    """The client times out while its refresh waits on a lock, and the server then commits
    the rotation: retried within the grace window, the old token gets the same successor."""
    tokens = world.grant()
    token_hash = hash_token(tokens["refresh_token"])
    with world.context.engine.connect() as holder:
        # A row lock (PostgreSQL) or the write lock (SQLite): the rotation has to wait.
        holder.execute(
            update(RefreshToken)
            .where(col(RefreshToken.token_hash) == token_hash)
            .values(scope=RefreshToken.scope)
        )
        with pytest.raises(httpx.ReadTimeout):
            world.server.post(
                "/v1/oauth/token",
                data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                auth=(world.client.client_id, world.secret),
                timeout=httpx.Timeout(10, read=0.5),
            )
        holder.rollback()
    deadline = time.monotonic() + 60  # a generous bound on the wait, not a budget
    while not any(row.rotated_at for row in _family_tokens(world.context, tokens["refresh_token"])):
        assert time.monotonic() < deadline, "the abandoned refresh never committed"
        time.sleep(0.05)
    retry = world.refresh(tokens["refresh_token"])
    assert retry.status_code == 200, retry.text
    family = _family_tokens(world.context, tokens["refresh_token"])
    live = [row.token_hash for row in family if row.rotated_at is None]
    assert live == [hash_token(retry.json()["refresh_token"])]
    assert world.refresh(retry.json()["refresh_token"]).status_code == 200


def _wait_for_blocked_backend(admin: psycopg.Connection[Any], holder_pid: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            (holder_pid,),
        ).fetchone()
        if row is not None:
            return int(row[0])
        time.sleep(0.02)
    raise AssertionError("the refresh never waited on the held lock")


@pytest.mark.parametrize(
    ("refresh_token", "error"),
    [
        pytest.param("", "invalid_request", id="empty"),
        pytest.param("x" * 8000, "invalid_grant", id="huge"),
        pytest.param("\x00", "invalid_request", id="nul"),
        pytest.param("\u00e9\U0001f600", "invalid_grant", id="non-ascii"),
        pytest.param("{token} ", "invalid_grant", id="trailing-space"),
        pytest.param("{access}", "invalid_grant", id="an-access-token"),
    ],
)
def test_bad_refresh_tokens_are_refused_and_change_nothing(
    world: World, refresh_token: str, error: str
) -> None:
    tokens = world.grant()
    value = refresh_token.format(token=tokens["refresh_token"], access=tokens["access_token"])
    response = world.refresh(value)
    assert (response.status_code, response.json()["error"]) == (400, error)
    assert response.headers["cache-control"] == "no-store"
    assert world.refresh(tokens["refresh_token"]).status_code == 200


def test_a_replay_asking_for_more_scope_is_refused_and_revokes_nothing(world: World) -> None:
    tokens = authorization_code_tokens(
        world.server,
        world.context,
        client=world.client,
        secret=world.secret,
        user=world.user,
        scope="read",
    )
    first = world.refresh(tokens["refresh_token"])
    assert first.status_code == 200
    wider = world.server.post(
        "/v1/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": "read write",
        },
        auth=(world.client.client_id, world.secret),
    )
    assert (wider.status_code, wider.json()["error"]) == (400, "invalid_scope")
    again = world.refresh(tokens["refresh_token"])
    assert again.status_code == 200
    assert again.json()["refresh_token"] == first.json()["refresh_token"]


def test_a_family_revoked_while_one_of_its_tokens_is_revoked_alone_is_revoked(
    world: World, databases: TestDatabases
) -> None:
    """RFC 7009 revokes the grant's refresh token while another transaction is adding one of
    its access tokens to the revoked set: the grant's revocation waits for it, then skips
    that token instead of failing (a 500 would leave the grant alive)."""
    if not databases.is_postgres:
        pytest.skip("waits on PostgreSQL's row lock of an uncommitted insert")
    tokens = world.grant()
    url = world.context.settings.database_url
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as admin:
        holder.execute(
            "INSERT INTO revokedaccesstoken (jti, expires_at, revoked_at)"
            " VALUES (%s, now() + interval '1 hour', now())",
            (access_token_jti(tokens),),
        )
        result: list[httpx.Response] = []
        form = {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"}
        auth = (world.client.client_id, world.secret)
        revoke = threading.Thread(
            target=lambda: result.append(
                world.server.post("/v1/oauth/revoke", data=form, auth=auth)
            )
        )
        revoke.start()
        _wait_for_blocked_backend(admin, holder.info.backend_pid)
        holder.commit()
        revoke.join(timeout=30)
    (response,) = result
    assert response.status_code == 200, response.text
    assert world.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
