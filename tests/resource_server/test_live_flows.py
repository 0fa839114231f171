"""Browser-driven grants against both live servers: code, implicit, and their revocation."""

import time
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from services.authorization_server.models import Client
from tests.authorization_server.tokens_over_http import exchange_code
from tests.factories import make_client, make_user
from tests.harness.browser import Browser
from tests.harness.forms import hidden_fields
from tests.resource_server.live import Stack

pytestmark = pytest.mark.e2e

CALLBACK = "http://127.0.0.1:8080/callback"
POLL_INTERVAL = 1.0
DROPLET = {"name": "db-1", "region": "fra1", "size": "s-2vcpu-4gb", "image": "debian-12-x64"}
REVOKED = 'Bearer realm="dropletbook", error="invalid_token", error_description="token revoked"'


@pytest.fixture
def browser(stack: Stack) -> Iterator[Browser]:
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    make_user(stack.context, email=email)
    with Browser(stack.authorization.url) as browser:
        yield browser.sign_in(email)


@pytest.fixture
def app(stack: Stack) -> tuple[Client, str]:
    client, secret = make_client(
        stack.context, name=f"Dropletbook {uuid.uuid4().hex[:6]}", redirect_uris=(CALLBACK,)
    )
    assert secret is not None
    return client, secret


def _connect(stack: Stack, browser: Browser, app: tuple[Client, str]) -> tuple[str, dict[str, str]]:
    client, secret = app
    code, verifier = browser.approve_code(client.client_id, CALLBACK, "read write")
    with httpx.Client(base_url=stack.authorization.url) as back_channel:
        tokens = exchange_code(
            back_channel,
            client_id=client.client_id,
            secret=secret,
            code=code,
            verifier=verifier,
            redirect_uri=CALLBACK,
        )
    tokens["_verifier"] = verifier
    return code, tokens


def _refused_after_poll(stack: Stack, token: str) -> None:
    time.sleep(2 * POLL_INTERVAL + 0.5)
    response = stack.api("GET", "/v2/account", token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == REVOKED


def test_authorization_code_token_reads_and_writes(
    stack: Stack, browser: Browser, app: tuple[Client, str]
) -> None:
    _, tokens = _connect(stack, browser, app)
    access = tokens["access_token"]
    account = stack.api("GET", "/v2/account", access)
    assert account.status_code == 200, account.text
    assert account.json()["account"]["kind"] == "user"
    assert account.json()["account"]["email"] == tokens["info"]["email"]
    created = stack.api("POST", "/v2/droplets", access, json=DROPLET)
    assert created.status_code == 201, created.text
    assert stack.api("GET", "/v2/droplets", access).json()["meta"] == {"total": 1}


def test_replayed_code_revokes_the_tokens_it_gave(
    stack: Stack, browser: Browser, app: tuple[Client, str]
) -> None:
    client, secret = app
    code, tokens = _connect(stack, browser, app)
    access = tokens["access_token"]
    assert stack.api("GET", "/v2/account", access).status_code == 200
    replay = httpx.post(
        f"{stack.authorization.url}/v1/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": tokens["_verifier"],
            "redirect_uri": CALLBACK,
        },
        auth=(client.client_id, secret),
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    _refused_after_poll(stack, access)


def test_user_revoking_the_app_ends_its_access_token(
    stack: Stack, browser: Browser, app: tuple[Client, str]
) -> None:
    _, tokens = _connect(stack, browser, app)
    access = tokens["access_token"]
    assert stack.api("GET", "/v2/account", access).status_code == 200
    action = f"/account/applications/{app[0].client_id}/revoke"
    response = browser.submit("/account/applications", action)
    assert response.status_code == 303, response.text
    _refused_after_poll(stack, access)


def test_implicit_grant_token_is_accepted(stack: Stack, browser: Browser) -> None:
    client, _ = make_client(
        stack.context,
        name="Dropletbook SPA",
        client_type="public",
        grant_types=("implicit",),
        redirect_uris=(CALLBACK,),
        scope="read",
    )
    params = {
        "response_type": "token",
        "client_id": client.client_id,
        "redirect_uri": CALLBACK,
        "scope": "read",
        "state": "s1",
    }
    consent = browser.get("/v1/oauth/authorize", params=params)
    assert consent.status_code == 200, consent.text
    answer = browser.post(
        "/v1/oauth/authorize/decision", {**hidden_fields(consent), "decision": "approve"}
    )
    assert answer.status_code == 303, answer.text
    fragment = parse_qs(urlsplit(answer.headers["location"]).fragment)
    access = fragment["access_token"][0]
    response = stack.api("GET", "/v2/account", access)
    assert response.status_code == 200, response.text
    written = stack.api("POST", "/v2/droplets", access, json=DROPLET)
    assert written.status_code == 403
    assert written.json()["error"] == "insufficient_scope"
