"""RFC 7009 revocation of a user's last grant withdraws the consent (in-process): the app
leaves the user's authorized apps, and its next authorization request shows the consent
screen again. A client's Disconnect is thus complete without the user visiting the server."""

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, RefreshToken, User
from shared.crypto import hash_token
from shared.db import utcnow
from tests.factories import make_client, make_user
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.browser import Browser, code_request
from tests.harness.forms import hidden_fields

CALLBACK = "http://127.0.0.1:8080/callback"
APPLICATIONS = "/account/applications"


@pytest.fixture
def user(as_context: ServerContext) -> User:
    return make_user(as_context, email=f"user-{uuid.uuid4().hex[:8]}@example.com")


@pytest.fixture
def browser(as_server: AuthorizationServer, user: User) -> Iterator[Browser]:
    browser = as_server.browser()
    browser.sign_in(user.email)
    yield browser
    browser.close()


@pytest.fixture
def app(as_context: ServerContext) -> tuple[Client, str]:
    client, secret = make_client(
        as_context, name=f"Dropletbook {uuid.uuid4().hex[:6]}", redirect_uris=(CALLBACK,)
    )
    assert secret is not None
    return client, secret


def _authorization_request(client_id: str, scope: str) -> tuple[dict[str, str], str]:
    return code_request(client_id, CALLBACK, scope)


def _shows_consent(browser: Browser, client: Client) -> bool:
    """Whether an authorization request asks the user (rather than redirecting at once)."""
    params, _ = _authorization_request(client.client_id, "read")
    response = browser.get("/v1/oauth/authorize", params=params)
    assert response.status_code in (200, 303), response.text
    return response.status_code == 200 and "Authorize Application" in response.text


def _approve(browser: Browser, client: Client) -> tuple[str, str]:
    """An authorization code and its verifier, approving the consent screen if it is shown."""
    params, verifier = _authorization_request(client.client_id, "read write")
    answer = browser.get("/v1/oauth/authorize", params=params)
    if answer.status_code == 200:
        approval = {**hidden_fields(answer), "decision": "approve"}
        answer = browser.post("/v1/oauth/authorize/decision", approval)
    assert answer.status_code == 303, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0], verifier


def _exchange(
    as_server: AuthorizationServer, app: tuple[Client, str], code: str, verifier: str
) -> httpx.Response:
    client, secret = app
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": CALLBACK,
    }
    return as_server.post("/v1/oauth/token", data=form, auth=(client.client_id, secret))


def _connect(
    as_server: AuthorizationServer, browser: Browser, app: tuple[Client, str]
) -> dict[str, Any]:
    """The code flow as a client runs it."""
    response = _exchange(as_server, app, *_approve(browser, app[0]))
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def _revoke(as_server: AuthorizationServer, app: tuple[Client, str], token: str, hint: str) -> None:
    client, secret = app
    response = as_server.post(
        "/v1/oauth/revoke",
        data={"token": token, "token_type_hint": hint},
        auth=(client.client_id, secret),
    )
    assert response.status_code == 200, response.text


def _listed(browser: Browser, client: Client) -> bool:
    page = browser.get(APPLICATIONS)
    assert page.status_code == 200
    return client.name in page.text


def test_revoking_the_last_grant_withdraws_the_consent(
    as_server: AuthorizationServer, browser: Browser, app: tuple[Client, str]
) -> None:
    tokens = _connect(as_server, browser, app)
    assert _listed(browser, app[0])
    assert not _shows_consent(browser, app[0])

    _revoke(as_server, app, tokens["refresh_token"], "refresh_token")

    assert not _listed(browser, app[0])
    assert _shows_consent(browser, app[0])


def test_consent_stays_while_another_grant_is_live(
    as_server: AuthorizationServer, browser: Browser, app: tuple[Client, str]
) -> None:
    """E.g. the user connected the app from two devices: disconnecting one keeps the other."""
    first = _connect(as_server, browser, app)
    second = _connect(as_server, browser, app)  # no consent screen: the first one's consent

    _revoke(as_server, app, first["refresh_token"], "refresh_token")
    assert _listed(browser, app[0])
    assert not _shows_consent(browser, app[0])

    _revoke(as_server, app, second["refresh_token"], "refresh_token")
    assert not _listed(browser, app[0])


def test_an_expired_grant_does_not_keep_the_consent(
    as_server: AuthorizationServer,
    as_context: ServerContext,
    browser: Browser,
    app: tuple[Client, str],
) -> None:
    stale = _connect(as_server, browser, app)
    live = _connect(as_server, browser, app)
    with Session(as_context.engine) as session:
        session.exec(
            update(RefreshToken)
            .where(col(RefreshToken.token_hash) == hash_token(stale["refresh_token"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    # The stale grant's access token is unexpired (and unrevoked), so it still counts as live.
    _revoke(as_server, app, stale["access_token"], "access_token")

    _revoke(as_server, app, live["refresh_token"], "refresh_token")
    assert not _listed(browser, app[0])


def test_revoking_an_access_token_keeps_the_consent(
    as_server: AuthorizationServer, browser: Browser, app: tuple[Client, str]
) -> None:
    tokens = _connect(as_server, browser, app)
    _revoke(as_server, app, tokens["access_token"], "access_token")
    assert _listed(browser, app[0])
    assert not _shows_consent(browser, app[0])


def test_other_users_keep_their_consent(
    as_server: AuthorizationServer,
    as_context: ServerContext,
    browser: Browser,
    app: tuple[Client, str],
) -> None:
    other = make_user(as_context, email=f"other-{uuid.uuid4().hex[:8]}@example.com")
    other_browser = as_server.browser()
    try:
        other_browser.sign_in(other.email)
        _connect(as_server, other_browser, app)
        tokens = _connect(as_server, browser, app)
        _revoke(as_server, app, tokens["refresh_token"], "refresh_token")
        assert not _listed(browser, app[0])
        assert _listed(other_browser, app[0])
    finally:
        other_browser.close()


def test_a_code_not_yet_exchanged_dies_with_the_consent(
    as_server: AuthorizationServer, browser: Browser, app: tuple[Client, str]
) -> None:
    tokens = _connect(as_server, browser, app)
    code, verifier = _approve(browser, app[0])  # no consent screen: a code at once
    _revoke(as_server, app, tokens["refresh_token"], "refresh_token")
    refused = _exchange(as_server, app, code, verifier)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    assert not _listed(browser, app[0])
