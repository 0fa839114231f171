"""Remembered consent is per response type: approving `code` never approves `token`.

The implicit grant (`response_type=token`) puts the access token in the browser, so an
approval for the code flow must not let the same client skip the screen for it.
"""

import uuid
from collections.abc import Iterator

import pytest
from sqlmodel import Session, col, select

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, Consent, User
from services.authorization_server.pkce import s256_challenge
from tests.factories import PASSWORD, VERIFIER, make_client, make_user
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.browser import Browser
from tests.harness.forms import csrf_token, redirect_params

CALLBACK = "http://127.0.0.1:8080/callback"


@pytest.fixture
def client(as_context: ServerContext) -> Client:
    client, _ = make_client(
        as_context,
        name=f"Both {uuid.uuid4().hex[:6]}",
        client_type="public",
        grant_types=("authorization_code", "implicit"),
    )
    return client


@pytest.fixture
def user(as_context: ServerContext) -> User:
    return make_user(as_context, email=f"consent-{uuid.uuid4().hex[:8]}@example.com")


@pytest.fixture
def browser(as_server: AuthorizationServer, user: User) -> Iterator[Browser]:
    browser = as_server.browser()
    assert browser.login(user.email, PASSWORD).status_code == 303
    yield browser
    browser.close()


def _params(client: Client, response_type: str, scope: str = "read") -> dict[str, str]:
    params = {
        "response_type": response_type,
        "client_id": client.client_id,
        "redirect_uri": CALLBACK,
        "scope": scope,
        "state": "s",
    }
    if response_type == "code":
        params |= {"code_challenge": s256_challenge(VERIFIER), "code_challenge_method": "S256"}
    return params


def _consents(context: ServerContext, user: User) -> dict[str, str]:
    with Session(context.engine) as session:
        rows = session.exec(select(Consent).where(col(Consent.user_id) == user.id)).all()
    return {row.response_type: row.scope for row in rows}


def test_consent_for_code_does_not_approve_token(
    as_context: ServerContext, browser: Browser, client: Client, user: User
) -> None:
    approved = browser.decide(browser.authorize(_params(client, "code")), "approve")
    assert "code" in redirect_params(approved)
    assert browser.authorize(_params(client, "code")).status_code == 303  # remembered

    implicit = browser.authorize(_params(client, "token"))
    assert implicit.status_code == 200, implicit.headers.get("location")
    assert "Authorize Application" in implicit.text
    assert "access_token" not in implicit.headers.get("location", "")
    assert _consents(as_context, user) == {"code": "read"}


def test_each_response_type_is_remembered_with_its_scopes(
    as_context: ServerContext, browser: Browser, client: Client, user: User
) -> None:
    browser.decide(browser.authorize(_params(client, "code", "read write")), "approve")
    token = browser.decide(browser.authorize(_params(client, "token")), "approve")
    assert "access_token" in redirect_params(token, fragment=True)
    assert _consents(as_context, user) == {"code": "read write", "token": "read"}

    again = browser.authorize(_params(client, "token"))
    assert again.status_code == 303
    assert "access_token" in redirect_params(again, fragment=True)
    # `write` was approved for code only: the implicit grant must ask for it.
    assert browser.authorize(_params(client, "token", "read write")).status_code == 200
    assert browser.authorize(_params(client, "code", "read write")).status_code == 303


def test_account_page_lists_the_client_once_and_revoke_forgets_both(
    as_context: ServerContext, browser: Browser, client: Client, user: User
) -> None:
    browser.decide(browser.authorize(_params(client, "code", "write")), "approve")
    browser.decide(browser.authorize(_params(client, "token")), "approve")
    page = browser.http.get("/account/applications")
    assert page.text.count(client.name) == 1
    assert "Read" in page.text and "Write" in page.text

    path = f"/account/applications/{client.client_id}/revoke"
    confirmation = browser.http.get(path)
    assert confirmation.status_code == 200
    revoke = browser.http.post(path, data={"csrf_token": csrf_token(confirmation.text)})
    assert revoke.status_code == 303
    assert _consents(as_context, user) == {}
    assert browser.authorize(_params(client, "code", "write")).status_code == 200
