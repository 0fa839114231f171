"""Getting real tokens from a live authorization server: token-status and refresh tests."""

import base64
import json
import threading
from typing import Any

import httpx

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from tests.factories import VERIFIER, make_auth_code

TOKEN = "/v1/oauth/token"


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


def concurrent_refreshes(
    url: str, requests: list[tuple[tuple[str, str], str]]
) -> list[httpx.Response]:
    """Send every (client credentials, refresh token) refresh at once, one thread each."""
    barrier = threading.Barrier(len(requests))
    responses: list[httpx.Response | None] = [None] * len(requests)

    def send(index: int, auth: tuple[str, str], refresh_token: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            http.get("/healthz")  # the connection is open before the barrier falls
            barrier.wait()
            responses[index] = http.post(
                TOKEN,
                data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                auth=auth,
            )

    threads = [
        threading.Thread(target=send, args=(index, auth, token))
        for index, (auth, token) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [response for response in responses if response is not None]


def access_token_jti(body: dict[str, Any]) -> str:
    """The `jti` of a token response's access token (read, not verified: the server signed
    it moments ago)."""
    payload = body["access_token"].split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"])
