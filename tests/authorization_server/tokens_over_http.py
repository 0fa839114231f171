"""Getting real tokens from a live authorization server, for the token-status tests."""

from typing import Any

import httpx

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from tests.factories import VERIFIER, make_auth_code


def authorization_code_tokens(
    url: str,
    context: ServerContext,
    *,
    client: Client,
    secret: str | None,
    user: User,
    scope: str = "read write",
) -> dict[str, Any]:
    """Tokens from the authorization code grant, as the client would get them."""
    code = make_auth_code(context, client=client, user=user, scope=scope)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client.redirect_uris[0],
        "code_verifier": VERIFIER,
    }
    auth = (client.client_id, secret) if secret else None
    if secret is None:
        form["client_id"] = client.client_id
    response = httpx.post(f"{url}/v1/oauth/token", data=form, auth=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(url: str, *, client: Client, secret: str, refresh_token: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(client.client_id, secret),
    )
