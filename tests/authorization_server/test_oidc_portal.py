"""The developer portal's OpenID Connect fields, on the server in-process: stored, shown
again on the edit form, and refused with the form's error like every other field."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from tests.factories import make_user
from tests.harness.authorization_server import AuthorizationServer
from tests.harness.browser import Browser

NEW = "/developer/apps/new"
BASE = {
    "name": "RP",
    "redirect_uris": "https://rp.example/callback",
    "client_type": "confidential",
    "grant_types": ["authorization_code", "refresh_token"],
}
OIDC = {
    "id_token_signed_response_alg": "ES256",
    "userinfo_signed_response_alg": "RS256",
    "post_logout_redirect_uris": "https://rp.example/bye\nhttps://rp.example/bye2",
    "default_max_age": "900",
    "require_auth_time": "on",
}


@pytest.fixture
def browser(as_server: AuthorizationServer, as_context: ServerContext) -> Iterator[Browser]:
    user: User = make_user(as_context, email=f"dev-{uuid.uuid4().hex[:8]}@example.com")
    with as_server.browser() as browser:
        yield browser.sign_in(user.email)


def _stored(context: ServerContext, location: str) -> Client:
    with Session(context.engine) as session:
        client = session.get(Client, location.rsplit("/", 1)[-1])
        assert client is not None
        return client


def test_register_and_edit_with_oidc_metadata(browser: Browser, as_context: ServerContext) -> None:
    created = browser.submit(NEW, NEW, {**BASE, **OIDC})
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    client = _stored(as_context, location)
    assert client.id_token_signed_response_alg == "ES256"
    assert client.userinfo_signed_response_alg == "RS256"
    assert client.post_logout_redirect_uris == ["https://rp.example/bye", "https://rp.example/bye2"]
    assert (client.default_max_age, client.require_auth_time) == (900, True)

    form = browser.get(f"{location}/edit")
    assert '<option value="ES256" selected>' in form.text
    assert "https://rp.example/bye2" in form.text
    edited = browser.submit(
        f"{location}/edit",
        f"{location}/edit",
        {**BASE, "id_token_signed_response_alg": "RS256", "post_logout_redirect_uris": ""},
    )
    assert edited.status_code == 303, edited.text
    client = _stored(as_context, location)
    assert client.id_token_signed_response_alg == "RS256"
    assert client.userinfo_signed_response_alg is None
    assert client.post_logout_redirect_uris == []
    assert (client.default_max_age, client.require_auth_time) == (None, False)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_token_signed_response_alg", "HS256", "id_token_signed_response_alg supported"),
        ("userinfo_signed_response_alg", "none", "userinfo_signed_response_alg supported"),
        ("default_max_age", "soon", "default max age must be a number"),
        ("default_max_age", "0", "default_max_age must be a positive number"),
        ("post_logout_redirect_uris", "http://rp.example/bye", "post_logout_redirect_uris"),
    ],
)
def test_refused_values_show_the_form_again(
    browser: Browser, field: str, value: str, message: str
) -> None:
    data: dict[str, Any] = {**BASE, **OIDC, field: value}
    response = browser.submit(NEW, NEW, data)
    assert response.status_code == 400
    assert message in response.text
