"""The developer portal over HTTP (in-process): register, view, edit, rotate and delete apps.

The server here caches client registrations for a minute, so the tests also prove that
the portal's edits reach the token endpoint at once (the in-process cache is invalidated).
"""

import base64
import html
import json
import math
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from shared.crypto import hash_token
from tests.authorization_server.tokens_over_http import client_credentials
from tests.databases import TestDatabases
from tests.factories import make_client, make_user
from tests.harness.authorization_server import (
    AuthorizationServer,
    in_process_authorization_server,
)
from tests.harness.browser import Browser

CALLBACK = "https://dropletbook.example/callback"


@pytest.fixture(scope="module")
def as_server(databases: TestDatabases) -> Iterator[AuthorizationServer]:
    with in_process_authorization_server(databases, client_cache_ttl=60.0) as server:
        yield server


@pytest.fixture
def user(as_context: ServerContext) -> User:
    return make_user(as_context, email=f"dev-{uuid.uuid4().hex[:8]}@example.com")


@pytest.fixture
def anonymous(as_server: AuthorizationServer) -> Iterator[Browser]:
    browser = as_server.browser()
    yield browser
    browser.close()


@pytest.fixture
def browser(as_server: AuthorizationServer, user: User) -> Iterator[Browser]:
    browser = as_server.browser()
    browser.sign_in(user.email)
    yield browser
    browser.close()


def _app_form(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Dropletbook",
        "website": "https://dropletbook.example",
        "description": "Shows your droplets.",
        "redirect_uris": CALLBACK,
        "client_type": "confidential",
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        **overrides,
    }


def _register(browser: Browser, **overrides: Any) -> tuple[str, str]:
    """Register through the form; returns the client id and the secret the page shows."""
    created = browser.submit("/developer/apps/new", "/developer/apps/new", _app_form(**overrides))
    assert created.status_code == 303, created.text
    client_id = created.headers["location"].rsplit("/", 1)[1]
    page = browser.get(created.headers["location"])
    assert page.status_code == 200
    match = re.search(r'id="client-secret">([^<]+)<', page.text)
    assert match, "the secret is shown right after creation"
    return client_id, match.group(1)


def _load(context: ServerContext, client_id: str) -> Client | None:
    with Session(context.engine) as session:
        return repository.get_client(session=session, client_id=client_id)


def _count_clients(context: ServerContext, owner: User) -> int:
    with Session(context.engine) as session:
        return len(repository.list_clients(session=session, owner_id=owner.id))


@pytest.mark.parametrize(
    "path", ["/developer/apps", "/developer/apps/new", "/developer/apps/anything"]
)
def test_pages_need_login(anonymous: Browser, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + path.replace("/", "%2F")


def test_post_without_session_goes_to_login(anonymous: Browser) -> None:
    response = anonymous.submit("/login", "/developer/apps/new", _app_form())
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fdeveloper%2Fapps"


def test_register_shows_secret_once_and_stores_only_its_hash(
    as_server: AuthorizationServer, as_context: ServerContext, browser: Browser, user: User
) -> None:
    client_id, secret = _register(browser)

    stored = _load(as_context, client_id)
    assert stored is not None
    assert stored.owner_id == user.id
    assert stored.client_secret_hash == hash_token(secret)
    assert stored.trusted is False
    assert stored.redirect_uris == [CALLBACK]
    assert stored.website == "https://dropletbook.example"

    again = browser.get(f"/developer/apps/{client_id}")
    assert again.status_code == 200
    assert client_id in again.text
    assert secret not in again.text
    assert 'id="client-secret"' not in again.text

    token = client_credentials(as_server, client_id, secret)
    assert token.status_code == 200, token.text


def test_list_shows_own_apps_only(as_context: ServerContext, browser: Browser, user: User) -> None:
    mine, _ = _register(browser, name="Mine")
    other = make_user(as_context, email=f"other-{uuid.uuid4().hex[:8]}@example.com")
    theirs, _ = make_client(as_context, name="Theirs", owner=other)

    page = browser.get("/developer/apps")
    assert page.status_code == 200
    assert mine in page.text
    assert "Mine" in page.text
    assert theirs.client_id not in page.text


def test_public_client_has_no_secret(as_context: ServerContext, browser: Browser) -> None:
    created = browser.submit(
        "/developer/apps/new",
        "/developer/apps/new",
        _app_form(client_type="public", grant_types=["authorization_code"]),
    )
    assert created.status_code == 303
    client_id = created.headers["location"].rsplit("/", 1)[1]
    page = browser.get(created.headers["location"])
    assert 'id="client-secret"' not in page.text
    stored = _load(as_context, client_id)
    assert stored is not None
    assert stored.client_type == "public"
    assert stored.client_secret_hash is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"redirect_uris": "http://dropletbook.example/cb"}, "https", id="http"),
        pytest.param({"redirect_uris": CALLBACK + "#frag"}, "fragment", id="fragment"),
        pytest.param({"redirect_uris": "not a url"}, "without spaces", id="garbage"),
        pytest.param({"redirect_uris": "javascript:alert(1)"}, "https", id="javascript"),
        pytest.param({"redirect_uris": "https://[::1/cb"}, "Not a valid URL", id="bad-ipv6"),
        pytest.param({"redirect_uris": ""}, "At least one redirect URI", id="none"),
        pytest.param({"name": " "}, "name is required", id="no-name"),
        pytest.param({"website": "ftp://files.example"}, "website", id="website"),
        pytest.param({"description": "x" * 1001}, "description", id="description"),
        pytest.param({"grant_types": []}, "at least one grant type", id="no-grant"),
        pytest.param({"grant_types": ["device_code"]}, "Unknown grant type", id="unknown-grant"),
        pytest.param({"grant_types": ["authorization_code", "password"]}, "trusted", id="password"),
        pytest.param(
            {"client_type": "public", "grant_types": ["client_credentials"]},
            "Public clients cannot use client_credentials",
            id="public-client-credentials",
        ),
        pytest.param({"client_type": "superuser"}, "Client type", id="client-type"),
    ],
)
def test_invalid_registration_rerenders_the_form(
    as_context: ServerContext,
    browser: Browser,
    user: User,
    overrides: dict[str, Any],
    message: str,
) -> None:
    response = browser.submit("/developer/apps/new", "/developer/apps/new", _app_form(**overrides))
    assert response.status_code == 400
    assert 'class="error"' in response.text
    assert message in response.text
    assert 'name="csrf_token"' in response.text  # the form is back, ready to fix
    assert _count_clients(as_context, user) == 0


@pytest.mark.parametrize("csrf", [None, "forged"], ids=["missing", "forged"])
@pytest.mark.parametrize("action", ["new", "{id}/edit", "{id}/rotate-secret", "{id}/delete"])
def test_posts_require_csrf(
    as_server: AuthorizationServer,
    as_context: ServerContext,
    browser: Browser,
    user: User,
    action: str,
    csrf: str | None,
) -> None:
    client, _ = make_client(as_context, owner=user, grant_types=("client_credentials",))
    data = _app_form(name="Changed")
    if csrf is not None:
        data["csrf_token"] = csrf
    response = browser.post(f"/developer/apps/{action.format(id=client.client_id)}", data)
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert _count_clients(as_context, user) == 1
    stored = _load(as_context, client.client_id)
    assert stored is not None
    assert stored.name == client.name
    assert stored.client_secret_hash == client.client_secret_hash


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("GET", ""),
        ("GET", "/edit"),
        ("GET", "/rotate-secret"),
        ("GET", "/delete"),
        ("POST", "/edit"),
        ("POST", "/rotate-secret"),
        ("POST", "/delete"),
    ],
)
def test_other_users_apps_are_not_found(
    as_context: ServerContext, browser: Browser, method: str, action: str
) -> None:
    owner = make_user(as_context, email=f"owner-{uuid.uuid4().hex[:8]}@example.com")
    client, _ = make_client(as_context, owner=owner)
    path = f"/developer/apps/{client.client_id}{action}"
    if method == "GET":
        response = browser.get(path)
    else:
        response = browser.submit("/developer/apps", path, _app_form(name="Hijacked"))
    assert response.status_code == 404
    assert client.client_id not in response.text
    stored = _load(as_context, client.client_id)
    assert stored is not None
    assert stored.name == client.name
    assert stored.client_secret_hash == client.client_secret_hash


def test_unknown_app_is_not_found(browser: Browser) -> None:
    assert browser.get("/developer/apps/no-such-client").status_code == 404


def test_edit_updates_the_registration(
    as_server: AuthorizationServer, as_context: ServerContext, browser: Browser
) -> None:
    client_id, _ = _register(browser)
    form = browser.get(f"/developer/apps/{client_id}/edit")
    assert form.status_code == 200
    assert CALLBACK in form.text  # prefilled

    new_uris = "https://dropletbook.example/cb2\nhttp://localhost:8080/callback\n"
    response = browser.submit(
        f"/developer/apps/{client_id}/edit",
        f"/developer/apps/{client_id}/edit",
        _app_form(
            name="Dropletbook 2",
            description="Now with more droplets.",
            redirect_uris=new_uris,
            grant_types=["authorization_code"],
        ),
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/developer/apps/{client_id}"
    stored = _load(as_context, client_id)
    assert stored is not None
    assert stored.name == "Dropletbook 2"
    assert stored.description == "Now with more droplets."
    assert stored.redirect_uris == [
        "https://dropletbook.example/cb2",
        "http://localhost:8080/callback",
    ]
    assert stored.grant_types == ["authorization_code"]
    assert "Dropletbook 2" in browser.get(f"/developer/apps/{client_id}").text


def test_edit_reaches_the_token_endpoint_at_once(
    as_server: AuthorizationServer, browser: Browser
) -> None:
    client_id, secret = _register(browser)
    assert client_credentials(as_server, client_id, secret).status_code == 200  # now cached
    response = browser.submit(
        f"/developer/apps/{client_id}/edit",
        f"/developer/apps/{client_id}/edit",
        _app_form(grant_types=["authorization_code"]),
    )
    assert response.status_code == 303
    refused = client_credentials(as_server, client_id, secret)
    assert refused.status_code == 400
    assert refused.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"redirect_uris": "http://evil.example/cb"}, "https", id="http"),
        pytest.param({"redirect_uris": ""}, "At least one redirect URI", id="none"),
        pytest.param({"grant_types": ["password"]}, "trusted", id="password"),
        pytest.param({"name": ""}, "name is required", id="no-name"),
    ],
)
def test_invalid_edit_changes_nothing(
    as_context: ServerContext, browser: Browser, overrides: dict[str, Any], message: str
) -> None:
    client_id, _ = _register(browser)
    before = _load(as_context, client_id)
    response = browser.submit(
        f"/developer/apps/{client_id}/edit",
        f"/developer/apps/{client_id}/edit",
        _app_form(**overrides),
    )
    assert response.status_code == 400
    assert message in response.text
    after = _load(as_context, client_id)
    assert after is not None and before is not None
    assert after.model_dump() == before.model_dump()


def test_trusted_client_keeps_the_password_grant(
    as_context: ServerContext, browser: Browser, user: User
) -> None:
    client, _ = make_client(
        as_context, owner=user, trusted=True, grant_types=("authorization_code", "password")
    )
    response = browser.submit(
        f"/developer/apps/{client.client_id}/edit",
        f"/developer/apps/{client.client_id}/edit",
        _app_form(grant_types=["authorization_code", "password"], redirect_uris=CALLBACK),
    )
    assert response.status_code == 303
    stored = _load(as_context, client.client_id)
    assert stored is not None
    assert stored.trusted is True
    assert stored.grant_types == ["authorization_code", "password"]


def test_rotate_secret_shows_new_secret_once_and_old_stops(
    as_server: AuthorizationServer, as_context: ServerContext, browser: Browser
) -> None:
    client_id, old_secret = _register(browser)
    assert client_credentials(as_server, client_id, old_secret).status_code == 200

    rotate = f"/developer/apps/{client_id}/rotate-secret"
    rotating = time.monotonic()
    rotated = browser.submit(rotate, rotate)  # from the confirmation page
    assert rotated.status_code == 303
    assert rotated.headers["location"] == f"/developer/apps/{client_id}"
    page = browser.get(f"/developer/apps/{client_id}")
    match = re.search(r'id="client-secret">([^<]+)<', page.text)
    assert match
    new_secret = match.group(1)
    assert new_secret != old_secret
    assert new_secret not in browser.get(f"/developer/apps/{client_id}").text

    old = client_credentials(as_server, client_id, old_secret)
    assert old.status_code == 401
    assert old.json()["error"] == "invalid_client"
    # The new secret authenticates; client-credentials tokens wait until no replica can still
    # accept the old one (its client cache, AS_CLIENT_CACHE_TTL: 60 s here), for every token
    # issued until then is revoked.
    paused = client_credentials(as_server, client_id, new_secret)
    assert paused.status_code == 503
    assert paused.json()["error"] == "temporarily_unavailable"
    # The true wait: what is left of the 60 s (at most 61 with the cut-off's second), and
    # never less, however long the steps since the rotation took on a busy machine.
    left = 60 - (time.monotonic() - rotating) - 0.1
    assert max(1, math.ceil(left)) <= int(paused.headers["retry-after"]) <= 61
    stored = _load(as_context, client_id)
    assert stored is not None
    assert stored.client_secret_hash == hash_token(new_secret)


def test_stale_secret_cookie_is_never_shown(
    as_server: AuthorizationServer, browser: Browser
) -> None:
    client_id, _ = _register(browser)
    browser.http.cookies.set(
        "as_new_secret", "made-up-secret", domain="127.0.0.1", path=f"/developer/apps/{client_id}"
    )
    page = browser.get(f"/developer/apps/{client_id}")
    assert page.status_code == 200
    assert "made-up-secret" not in page.text


def test_rotating_a_public_client_is_refused(
    as_context: ServerContext, browser: Browser, user: User
) -> None:
    client, _ = make_client(
        as_context, owner=user, client_type="public", grant_types=("authorization_code",)
    )
    rotate = f"/developer/apps/{client.client_id}/rotate-secret"
    asked = browser.get(rotate)
    assert asked.status_code == 400
    assert "no secret" in asked.text
    assert f'action="{rotate}"' not in asked.text
    response = browser.submit(f"/developer/apps/{client.client_id}", rotate)
    assert response.status_code == 400
    assert "no secret" in response.text


def test_delete_stops_the_client(
    as_server: AuthorizationServer, as_context: ServerContext, browser: Browser
) -> None:
    client_id, secret = _register(browser)
    assert client_credentials(as_server, client_id, secret).status_code == 200  # now cached

    delete = f"/developer/apps/{client_id}/delete"
    deleted = browser.submit(delete, delete)  # from the confirmation page
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/developer/apps"

    refused = client_credentials(as_server, client_id, secret)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert _load(as_context, client_id) is None
    assert client_id not in browser.get("/developer/apps").text
    assert browser.get(f"/developer/apps/{client_id}").status_code == 404


def test_pages_refuse_framing(browser: Browser) -> None:
    page = browser.get("/developer/apps/new")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


def test_names_are_escaped(browser: Browser) -> None:
    client_id, _ = _register(browser, name="<script>alert(1)</script>")
    for path in ("/developer/apps", f"/developer/apps/{client_id}"):
        page = browser.get(path).text
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_oversized_form_is_refused(as_context: ServerContext, browser: Browser, user: User) -> None:
    response = browser.submit(
        "/developer/apps/new", "/developer/apps/new", _app_form(description="x" * 20000)
    )
    assert response.status_code == 413
    assert _count_clients(as_context, user) == 0


def _notice(page: httpx.Response) -> str | None:
    match = re.search(r'<p class="notice" id="notice" role="status">([^<]*)</p>', page.text)
    return html.unescape(match.group(1)) if match else None


@pytest.mark.parametrize("action", ["rotate-secret", "delete"])
def test_confirmation_pages_need_login(anonymous: Browser, action: str) -> None:
    path = f"/developer/apps/some-client/{action}"
    response = anonymous.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + quote(path, safe="")


def test_delete_asks_first_then_says_what_happened(
    as_server: AuthorizationServer, as_context: ServerContext, browser: Browser
) -> None:
    client_id, secret = _register(browser)
    app_page = browser.get(f"/developer/apps/{client_id}")
    delete = f"/developer/apps/{client_id}/delete"
    assert f'href="{delete}"' in app_page.text  # the button leads to the confirmation
    assert f'action="{delete}"' not in app_page.text

    asked = browser.get(delete)
    assert asked.status_code == 200
    assert "Delete Dropletbook?" in asked.text
    assert "Every token issued to it stops working." in asked.text
    assert f'<form method="post" action="{delete}">' in asked.text
    assert '<button class="btn danger" type="submit">Delete</button>' in asked.text
    assert f'<a class="btn secondary" href="/developer/apps/{client_id}">Cancel</a>' in asked.text
    assert asked.headers["x-frame-options"] == "DENY"
    # Asking changed nothing.
    assert _load(as_context, client_id) is not None
    assert client_credentials(as_server, client_id, secret).status_code == 200

    deleted = browser.submit(delete, delete)
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/developer/apps"
    assert _load(as_context, client_id) is None
    listing = browser.get("/developer/apps")
    assert _notice(listing) == "Dropletbook was deleted; its tokens no longer work."
    assert _notice(browser.get("/developer/apps")) is None  # once


def test_rotate_asks_first_then_says_what_happened(
    as_server: AuthorizationServer, as_context: ServerContext, browser: Browser
) -> None:
    client_id, secret = _register(browser)
    before = _load(as_context, client_id)
    assert before is not None
    rotate = f"/developer/apps/{client_id}/rotate-secret"
    assert f'href="{rotate}"' in browser.get(f"/developer/apps/{client_id}").text

    asked = browser.get(rotate)
    assert asked.status_code == 200
    assert "Rotate the secret of Dropletbook?" in asked.text
    assert "The current secret stops working at once" in asked.text
    assert '<button class="btn danger" type="submit">Rotate secret</button>' in asked.text
    assert f'href="/developer/apps/{client_id}">Cancel</a>' in asked.text
    after = _load(as_context, client_id)
    assert after is not None
    assert after.client_secret_hash == before.client_secret_hash
    assert client_credentials(as_server, client_id, secret).status_code == 200

    assert browser.submit(rotate, rotate).status_code == 303
    page = browser.get(f"/developer/apps/{client_id}")
    assert _notice(page) == "A new secret was issued: copy it now. The old one no longer works."
    assert 'id="client-secret"' in page.text
    assert _notice(browser.get(f"/developer/apps/{client_id}")) is None  # once


def test_forged_notice_is_never_shown(browser: Browser) -> None:
    payload = json.dumps({"path": "/developer/apps", "text": "Send your password to evil"})
    value = base64.urlsafe_b64encode(payload.encode()).decode()
    browser.http.cookies.set(
        "as_notice", f"{value}.forged", domain="127.0.0.1", path="/developer/apps"
    )
    page = browser.get("/developer/apps")
    assert page.status_code == 200
    assert "evil" not in page.text
