"""Consent that cannot be spoofed or carried over (issue 18 item 10), over HTTP in-process:
client names that hide or reorder characters are refused, a redirect URI added after the
user consented asks again, and a rotated secret ends the client's client-credentials tokens.
"""

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.client_rules import RegistrationError, check_name
from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from tests.authorization_server.tokens_over_http import access_token_jti, client_credentials
from tests.databases import TestDatabases
from tests.factories import PASSWORD, make_client, make_user
from tests.harness.authorization_server import (
    AuthorizationServer,
    in_process_authorization_server,
)
from tests.harness.browser import Browser, code_request
from tests.harness.forms import redirect_params

CALLBACK = "http://127.0.0.1:8080/callback"
ADDED = "https://collector.example/cb"

HIDDEN = [
    pytest.param("Dropletbook\u202e", id="rlo"),  # RIGHT-TO-LEFT OVERRIDE
    pytest.param("Drop\u2066let\u2069book", id="isolates"),
    pytest.param("Drop\u200fletbook", id="rlm"),
    pytest.param("Drop\u061cletbook", id="alm"),
    pytest.param("Drop\u200bletbook", id="zwsp"),
    pytest.param("Drop\u200dletbook", id="zwj"),
    pytest.param("Drop\u2060letbook", id="word-joiner"),
    pytest.param("Drop\ufeffletbook", id="bom"),
    pytest.param("Drop\u00adletbook", id="soft-hyphen"),
    pytest.param("Drop\x00letbook", id="nul"),
    pytest.param("Drop\x1b[31mletbook", id="escape"),
    pytest.param("Drop\nletbook", id="newline"),
    pytest.param("Drop\u2028letbook", id="line-separator"),
    pytest.param("Drop\u3164letbook", id="hangul-filler"),
    pytest.param("Drop\ue000letbook", id="private-use"),
]


@pytest.fixture(scope="module")
def server(databases: TestDatabases) -> Iterator[AuthorizationServer]:
    with in_process_authorization_server(databases, open_registration=True) as server:
        yield server


@pytest.fixture
def context(server: AuthorizationServer) -> ServerContext:
    return server.context


@pytest.fixture
def developer(context: ServerContext) -> User:
    return make_user(context, email=f"dev-{uuid.uuid4().hex[:8]}@example.com")


@pytest.fixture
def portal(server: AuthorizationServer, developer: User) -> Iterator[Browser]:
    with server.browser() as browser:
        yield browser.sign_in(developer.email)


def _load(context: ServerContext, client_id: str) -> Client:
    with Session(context.engine) as session:
        client = repository.get_client(session=session, client_id=client_id)
    assert client is not None
    return client


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HIDDEN)
def test_check_name_refuses_hidden_and_reordering_characters(name: str) -> None:
    with pytest.raises(RegistrationError, match="control, format, bidi") as refused:
        check_name(name)
    assert refused.value.field == "client_name"


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        pytest.param("\uff24\uff52\uff4f\uff50\uff4c\uff45\uff54", "Droplet", id="fullwidth"),
        pytest.param("\u2460 App", "1 App", id="circled-digit"),
        pytest.param("Drop\u00a0\u2003book", "Drop book", id="odd-spaces"),
        pytest.param("  Dropletbook  ", "Dropletbook", id="padded"),
        pytest.param("Caf\u0065\u0301", "Caf\u00e9", id="composed"),
        pytest.param("Gouttelette \u00e9t\u00e9", "Gouttelette \u00e9t\u00e9", id="accents"),
        pytest.param("\u6c34\u6ef4", "\u6c34\u6ef4", id="cjk"),
    ],
)
def test_check_name_normalises_nfkc(name: str, stored: str) -> None:
    assert check_name(name) == stored


@pytest.mark.parametrize("name", HIDDEN)
def test_rfc7591_registration_refuses_the_name(server: AuthorizationServer, name: str) -> None:
    response = server.post(
        "/v1/oauth/register", json={"client_name": name, "redirect_uris": [CALLBACK]}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_client_metadata"
    assert "control, format, bidi" in response.json()["error_description"]


def test_rfc7591_registration_stores_the_normalised_name(
    server: AuthorizationServer, context: ServerContext
) -> None:
    fullwidth = "\uff24\uff52\uff4f\uff50\uff4c\uff45\uff54\uff42\uff4f\uff4f\uff4b"
    response = server.post(
        "/v1/oauth/register", json={"client_name": fullwidth, "redirect_uris": [CALLBACK]}
    )
    assert response.status_code == 201, response.text
    assert response.json()["client_name"] == "Dropletbook"
    assert _load(context, response.json()["client_id"]).name == "Dropletbook"


def _app_form(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Dropletbook",
        "website": "https://dropletbook.example",
        "description": "",
        "redirect_uris": CALLBACK,
        "client_type": "confidential",
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        **overrides,
    }


def test_the_portal_refuses_the_name_on_registration_and_edit(
    context: ServerContext, portal: Browser, developer: User
) -> None:
    new = "/developer/apps/new"
    refused = portal.submit(new, new, _app_form(name="Dropletbook\u202e"))
    assert refused.status_code == 400
    assert 'class="error"' in refused.text and "control, format, bidi" in refused.text
    with Session(context.engine) as session:
        assert repository.list_clients(session=session, owner_id=developer.id) == []

    client, _ = make_client(context, owner=developer)
    edit = f"/developer/apps/{client.client_id}/edit"
    refused = portal.submit(edit, edit, _app_form(name="Drop\u200bletbook"))
    assert refused.status_code == 400
    assert "control, format, bidi" in refused.text
    assert _load(context, client.client_id).name == "Dropletbook"


# --- redirect URIs added after consent ---------------------------------------------------------


@pytest.fixture
def app(context: ServerContext, developer: User) -> tuple[Client, str]:
    client, secret = make_client(
        context,
        name=f"Dropletbook {uuid.uuid4().hex[:6]}",
        grant_types=("authorization_code", "refresh_token", "client_credentials"),
        redirect_uris=(CALLBACK,),
        owner=developer,
    )
    assert secret is not None
    return client, secret


@pytest.fixture
def user_browser(server: AuthorizationServer, context: ServerContext) -> Iterator[Browser]:
    user = make_user(context, email=f"user-{uuid.uuid4().hex[:8]}@example.com")
    with server.browser() as browser:
        assert browser.login(user.email, PASSWORD).status_code == 303
        yield browser


def _apps_token(server: AuthorizationServer, app: tuple[Client, str], scope: str) -> str:
    resource = server.settings.apps_api_resource  # type: ignore[attr-defined]
    response = client_credentials(server, app[0].client_id, app[1], scope, resource)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _add_redirect_uri_through_the_api(server: AuthorizationServer, app: tuple[Client, str]) -> None:
    token = _apps_token(server, app, "write")
    response = server.patch(
        "/v1/apps/self",
        headers={"Authorization": f"Bearer {token}"},
        json={"redirect_uris": [CALLBACK, ADDED]},
    )
    assert response.status_code == 200, response.text


def _add_redirect_uri_in_the_portal(portal: Browser, app: tuple[Client, str]) -> None:
    edit = f"/developer/apps/{app[0].client_id}/edit"
    form = _app_form(name=app[0].name, redirect_uris=f"{CALLBACK}\n{ADDED}")
    response = portal.submit(edit, edit, form)
    assert response.status_code == 303, response.text


@pytest.mark.parametrize("through", ["apps-self", "portal"])
def test_a_redirect_uri_added_after_consent_asks_again(
    server: AuthorizationServer,
    context: ServerContext,
    portal: Browser,
    user_browser: Browser,
    app: tuple[Client, str],
    through: str,
) -> None:
    client_id = app[0].client_id
    user_browser.approve_code(client_id, CALLBACK, "read")
    remembered = user_browser.authorize(code_request(client_id, CALLBACK, "read")[0])
    assert remembered.status_code == 303 and "code" in redirect_params(remembered)

    if through == "apps-self":
        _add_redirect_uri_through_the_api(server, app)
    else:
        _add_redirect_uri_in_the_portal(portal, app)
    assert _load(context, client_id).redirect_uris == [CALLBACK, ADDED]

    asked = user_browser.authorize(code_request(client_id, ADDED, "read")[0])
    assert asked.status_code == 200, asked.headers.get("location")  # the consent screen
    assert "Authorize Application" in asked.text and "collector.example" in asked.text
    # The URI the user approved still needs no new approval.
    kept = user_browser.authorize(code_request(client_id, CALLBACK, "read")[0])
    assert kept.status_code == 303 and kept.headers["location"].startswith(CALLBACK)

    approved = user_browser.decide(asked, "approve")
    assert approved.headers["location"].startswith(ADDED) and "code" in redirect_params(approved)
    again = user_browser.authorize(code_request(client_id, ADDED, "read")[0])
    assert again.status_code == 303  # approved once for it, remembered


def test_a_client_that_replaces_its_only_redirect_uri_asks_again(
    server: AuthorizationServer, user_browser: Browser, app: tuple[Client, str]
) -> None:
    """Without `redirect_uri`, a request goes to the only registered one: the new one."""
    client_id = app[0].client_id
    user_browser.approve_code(client_id, CALLBACK, "read")
    token = _apps_token(server, app, "write")
    replaced = server.patch(
        "/v1/apps/self",
        headers={"Authorization": f"Bearer {token}"},
        json={"redirect_uris": [ADDED]},
    )
    assert replaced.status_code == 200, replaced.text
    params = code_request(client_id, CALLBACK, "read")[0]
    del params["redirect_uri"]
    asked = user_browser.authorize(params)
    assert asked.status_code == 200, asked.headers.get("location")


# --- a rotated secret ends the client-credentials tokens -------------------------------------


def _rotate_in_the_portal(portal: Browser, client_id: str) -> None:
    rotate = f"/developer/apps/{client_id}/rotate-secret"
    assert portal.submit(rotate, rotate).status_code == 303


def _new_secret(portal: Browser, client_id: str) -> str:
    page = portal.get(f"/developer/apps/{client_id}")
    start = page.text.index('id="client-secret">') + len('id="client-secret">')
    return page.text[start : page.text.index("<", start)]


def _introspect(server: AuthorizationServer, app: tuple[Client, str], token: str) -> Any:
    response = server.post(
        "/v1/oauth/introspect", data={"token": token}, auth=(app[0].client_id, app[1])
    )
    assert response.status_code == 200, response.text
    return response.json()


def _after_the_pause(request: Any) -> httpx.Response:
    """Right after a rotation the grant answers 503 with a true Retry-After, then issues."""
    response: httpx.Response = request()
    if response.status_code == 503:
        assert response.json()["error"] == "temporarily_unavailable"
        retry_after = int(response.headers["retry-after"])
        assert 1 <= retry_after <= 2  # AS_CLIENT_CACHE_TTL is 0 in the tests
        time.sleep(retry_after)
        response = request()
    return response


def test_rotating_the_secret_revokes_the_client_credentials_tokens(
    server: AuthorizationServer,
    context: ServerContext,
    portal: Browser,
    user_browser: Browser,
    app: tuple[Client, str],
) -> None:
    client, old_secret = app
    apps_token = _apps_token(server, app, "read")
    cloud = client_credentials(server, client.client_id, old_secret).json()["access_token"]
    assert server.get("/v1/apps/self", headers={"Authorization": f"Bearer {apps_token}"}).is_success
    assert _introspect(server, app, cloud)["active"] is True

    _rotate_in_the_portal(portal, client.client_id)
    new = (client, _new_secret(portal, client.client_id))

    self_read = server.get("/v1/apps/self", headers={"Authorization": f"Bearer {apps_token}"})
    assert self_read.status_code == 401
    assert 'error_description="access token revoked"' in self_read.headers["www-authenticate"]
    assert _introspect(server, new, cloud) == {"active": False}
    assert _introspect(server, new, apps_token) == {"active": False}

    fresh = _after_the_pause(lambda: client_credentials(server, client.client_id, new[1]))
    assert fresh.status_code == 200, fresh.text
    assert _introspect(server, new, fresh.json()["access_token"])["active"] is True
    fresh_apps = _after_the_pause(
        lambda: client_credentials(
            server,
            client.client_id,
            new[1],
            resource=server.settings.apps_api_resource,  # type: ignore[attr-defined]
        )
    ).json()["access_token"]
    assert server.get("/v1/apps/self", headers={"Authorization": f"Bearer {fresh_apps}"}).is_success


def test_rotating_the_secret_leaves_the_users_tokens_alone(
    server: AuthorizationServer,
    context: ServerContext,
    portal: Browser,
    user_browser: Browser,
    app: tuple[Client, str],
) -> None:
    client, secret = app
    code, verifier = user_browser.approve_code(client.client_id, CALLBACK, "read")
    tokens = server.post(
        "/v1/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": CALLBACK,
        },
        auth=(client.client_id, secret),
    ).json()
    _rotate_in_the_portal(portal, client.client_id)
    new = (client, _new_secret(portal, client.client_id))
    introspected = _introspect(server, new, tokens["access_token"])
    assert introspected["active"] is True
    assert introspected["jti"] == access_token_jti(tokens)
    refreshed = server.post(
        "/v1/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(client.client_id, new[1]),
    )
    assert refreshed.status_code == 200, refreshed.text
