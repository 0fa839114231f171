"""/account/applications over HTTP (in-process): the user's authorized apps and "Revoke access"."""

import html
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from tests.authorization_server.tokens_over_http import exchange_code
from tests.factories import PASSWORD, make_client, make_user
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.browser import Browser

CALLBACK = "http://127.0.0.1:8080/callback"


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


def _connect(
    as_server: AuthorizationServer,
    browser: Browser,
    app: tuple[Client, str],
    scope: str = "read write",
) -> dict[str, object]:
    """The whole code flow: consent, code, tokens."""
    client, secret = app
    code, verifier = browser.approve_code(client.client_id, CALLBACK, scope)
    return exchange_code(
        as_server,
        client_id=client.client_id,
        secret=secret,
        code=code,
        verifier=verifier,
        redirect_uri=CALLBACK,
    )


def _refresh(
    as_server: AuthorizationServer, app: tuple[Client, str], refresh_token: str
) -> httpx.Response:
    client, secret = app
    return as_server.post(
        "/v1/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(client.client_id, secret),
    )


def _introspect(as_server: AuthorizationServer, app: tuple[Client, str], token: str) -> bool:
    client, secret = app
    response = as_server.post(
        "/v1/oauth/introspect", data={"token": token}, auth=(client.client_id, secret)
    )
    assert response.status_code == 200, response.text
    active: bool = response.json()["active"]
    return active


def _revoke_path(client: Client) -> str:
    return f"/account/applications/{client.client_id}/revoke"


def _confirm_revoke(browser: Browser, client: Client) -> httpx.Response:
    """Click "Revoke access" on the confirmation page."""
    return browser.submit(_revoke_path(client), _revoke_path(client))


def _notice(page: httpx.Response) -> str | None:
    match = re.search(r'<p class="notice" id="notice" role="status">([^<]*)</p>', page.text)
    return html.unescape(match.group(1)) if match else None


def test_page_needs_login(as_server: AuthorizationServer) -> None:
    with as_server.browser() as anonymous:
        response = anonymous.get("/account/applications")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%2Fapplications"


def test_no_apps_yet(browser: Browser) -> None:
    page = browser.get("/account/applications")
    assert page.status_code == 200
    assert "You have not authorized any application" in page.text


def test_lists_authorized_apps_with_their_scopes(
    as_server: AuthorizationServer,
    as_context: ServerContext,
    browser: Browser,
    app: tuple[Client, str],
) -> None:
    _connect(as_server, browser, app, scope="read")
    other_app = make_client(as_context, name="Not authorized", redirect_uris=(CALLBACK,))[0]

    page = browser.get("/account/applications")
    assert page.status_code == 200
    assert app[0].name in page.text
    assert '<span class="permission">Read</span>' in page.text
    assert "Write" not in page.text.split("<tbody>")[1]
    assert "Revoke access" in page.text
    assert f'href="{_revoke_path(app[0])}"' in page.text  # leads to the confirmation
    assert other_app.name not in page.text
    assert page.headers["x-frame-options"] == "DENY"


def test_revoke_access_kills_the_refresh_token(
    as_server: AuthorizationServer,
    as_context: ServerContext,
    browser: Browser,
    user: User,
    app: tuple[Client, str],
) -> None:
    tokens = _connect(as_server, browser, app)
    refresh_token, access_token = str(tokens["refresh_token"]), str(tokens["access_token"])
    assert _introspect(as_server, app, access_token)

    response = _confirm_revoke(browser, app[0])
    assert response.status_code == 303
    assert response.headers["location"] == "/account/applications"

    refused = _refresh(as_server, app, refresh_token)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert not _introspect(as_server, app, access_token)
    listing = browser.get("/account/applications")
    assert _notice(listing) == f"{app[0].name}'s access was revoked."
    assert f"<strong>{app[0].name}</strong>" not in listing.text  # no longer listed
    assert app[0].name not in browser.get("/account/applications").text
    with Session(as_context.engine) as session:
        consent = repository.get_consent(
            session=session, user_id=user.id, client_id=app[0].client_id, response_type="code"
        )
    assert consent is None


def test_after_revoking_the_app_must_ask_again(
    as_server: AuthorizationServer, browser: Browser, app: tuple[Client, str]
) -> None:
    _connect(as_server, browser, app)
    assert _confirm_revoke(browser, app[0]).status_code == 303
    consent = browser.get(
        "/v1/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": app[0].client_id,
            "redirect_uri": CALLBACK,
            "scope": "read",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    assert consent.status_code == 200
    assert "Authorize Application" in consent.text


def test_pending_code_dies_with_the_revocation(
    as_server: AuthorizationServer, browser: Browser, app: tuple[Client, str]
) -> None:
    client, secret = app
    code, verifier = browser.approve_code(client.client_id, CALLBACK, "read")
    assert _confirm_revoke(browser, client).status_code == 303
    response = as_server.post(
        "/v1/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": CALLBACK,
        },
        auth=(client.client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_revoking_leaves_other_users_alone(
    as_server: AuthorizationServer,
    as_context: ServerContext,
    browser: Browser,
    app: tuple[Client, str],
) -> None:
    other = make_user(as_context, email=f"other-{uuid.uuid4().hex[:8]}@example.com")
    other_browser = as_server.browser()
    try:
        other_browser.sign_in(other.email)
        theirs = _connect(as_server, other_browser, app)
    finally:
        other_browser.close()
    _connect(as_server, browser, app)

    assert _confirm_revoke(browser, app[0]).status_code == 303
    assert _refresh(as_server, app, str(theirs["refresh_token"])).status_code == 200


@pytest.mark.parametrize("csrf", [None, "forged"], ids=["missing", "forged"])
def test_revoke_requires_csrf(
    as_server: AuthorizationServer, browser: Browser, app: tuple[Client, str], csrf: str | None
) -> None:
    tokens = _connect(as_server, browser, app)
    data = {} if csrf is None else {"csrf_token": csrf}
    response = browser.post(_revoke_path(app[0]), data)
    assert response.status_code == 403
    assert _refresh(as_server, app, str(tokens["refresh_token"])).status_code == 200
    assert app[0].name in browser.get("/account/applications").text


def test_revoke_without_session_goes_to_login(
    as_server: AuthorizationServer, app: tuple[Client, str]
) -> None:
    anonymous = as_server.browser()
    try:
        response = anonymous.submit("/login", _revoke_path(app[0]))
    finally:
        anonymous.close()
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_revoking_an_unknown_app_is_harmless(browser: Browser) -> None:
    response = browser.submit("/account/applications", "/account/applications/nope/revoke")
    assert response.status_code == 303


def test_revoke_asks_first_then_says_what_happened(
    as_server: AuthorizationServer, browser: Browser, app: tuple[Client, str]
) -> None:
    tokens = _connect(as_server, browser, app)
    name, path = app[0].name, _revoke_path(app[0])

    asked = browser.get(path)
    assert asked.status_code == 200
    assert f"Revoke {name}&#39;s access?" in asked.text
    assert "Its tokens stop working at once." in asked.text
    assert f'<form method="post" action="{path}">' in asked.text
    assert '<button class="btn danger" type="submit">Revoke access</button>' in asked.text
    assert '<a class="btn secondary" href="/account/applications">Cancel</a>' in asked.text
    # Asking changed nothing.
    assert _introspect(as_server, app, str(tokens["access_token"]))
    assert name in browser.get("/account/applications").text

    revoked = browser.submit(path, path)
    assert revoked.status_code == 303
    assert not _introspect(as_server, app, str(tokens["access_token"]))
    listing = browser.get("/account/applications")
    assert _notice(listing) == f"{name}'s access was revoked."
    assert _notice(browser.get("/account/applications")) is None  # once


def test_confirming_an_unknown_app_is_not_found(browser: Browser) -> None:
    page = browser.get("/account/applications/nope/revoke")
    assert page.status_code == 404
    assert "not among the applications you authorized" in page.text
    assert 'action="/account/applications/nope/revoke"' not in page.text


def test_confirmation_page_needs_login(
    as_server: AuthorizationServer, app: tuple[Client, str]
) -> None:
    with as_server.browser() as anonymous:
        response = anonymous.get(_revoke_path(app[0]))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def _password_grant(
    as_server: AuthorizationServer, app: tuple[Client, str], user: User
) -> httpx.Response:
    client, secret = app
    return as_server.post(
        "/v1/oauth/token",
        data={
            "grant_type": "password",
            "username": user.email,
            "password": PASSWORD,
            "scope": "read write",
        },
        auth=(client.client_id, secret),
    )


def test_password_grant_app_is_listed_and_revocable(
    as_server: AuthorizationServer, as_context: ServerContext, browser: Browser, user: User
) -> None:
    """The password grant records no consent: its live tokens alone list the app, so the user
    can revoke it there."""
    client, secret = make_client(
        as_context,
        name=f"First-party {uuid.uuid4().hex[:6]}",
        grant_types=("password", "refresh_token"),
        trusted=True,
    )
    assert secret is not None
    trusted = (client, secret)
    assert client.name not in browser.get("/account/applications").text

    tokens = _password_grant(as_server, trusted, user)
    assert tokens.status_code == 200, tokens.text
    page = browser.get("/account/applications")
    assert client.name in page.text
    assert f'href="{_revoke_path(client)}"' in page.text  # leads to the confirmation

    assert browser.submit(_revoke_path(client), _revoke_path(client)).status_code == 303
    refused = _refresh(as_server, trusted, tokens.json()["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert not _introspect(as_server, trusted, tokens.json()["access_token"])
    listing = browser.get("/account/applications")
    assert _notice(listing) == f"{client.name}'s access was revoked."
    assert _revoke_path(client) not in listing.text  # no longer listed
