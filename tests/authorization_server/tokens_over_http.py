"""Getting real tokens from the authorization server under test (in-process or live).

`server` is anything that posts to a path: an `AuthorizationServer` handle, or an
`httpx.Client` with the server's `base_url`.
"""

import base64
import json
import threading
from typing import Any, Protocol

import httpx

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client, User
from tests.factories import VERIFIER, make_auth_code
from tests.harness.authorization_server import AuthorizationServer

TOKEN = "/v1/oauth/token"


class Server(Protocol):
    def post(self, url: str, **kwargs: Any) -> httpx.Response: ...


def authorization_code_tokens(
    server: Server,
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
    response = server.post(TOKEN, data=form, auth=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(server: Server, *, client: Client, secret: str, refresh_token: str) -> httpx.Response:
    return server.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(client.client_id, secret),
    )


def concurrent_refreshes(
    server: AuthorizationServer, requests: list[tuple[tuple[str, str], str]]
) -> list[httpx.Response]:
    """Send every (client credentials, refresh token) refresh at once, one thread each."""
    return concurrent_token_requests(
        server,
        [
            (auth, {"grant_type": "refresh_token", "refresh_token": token})
            for auth, token in requests
        ],
    )


def concurrent_token_requests(
    server: AuthorizationServer, requests: list[tuple[tuple[str, str], dict[str, str]]]
) -> list[httpx.Response]:
    """Send every (client credentials, form) token request at once, one thread each."""
    barrier = threading.Barrier(len(requests), timeout=30)  # a failed thread fails all
    responses: list[httpx.Response | None] = [None] * len(requests)

    def send(index: int, auth: tuple[str, str], form: dict[str, str]) -> None:
        with server.client(timeout=60) as http:
            http.get("/healthz")  # the connection is open before the barrier falls
            barrier.wait()
            responses[index] = http.post(TOKEN, data=form, auth=auth)

    threads = [
        threading.Thread(target=send, args=(index, auth, form))
        for index, (auth, form) in enumerate(requests)
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


def exchange_code(
    server: Server,
    *,
    client_id: str,
    secret: str,
    code: str,
    verifier: str,
    redirect_uri: str,
) -> dict[str, Any]:
    response = server.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
        },
        auth=(client_id, secret),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def client_credentials(
    server: Server,
    client_id: str,
    secret: str,
    scope: str = "read",
    resource: str | None = None,
) -> httpx.Response:
    form = {"grant_type": "client_credentials", "scope": scope}
    return server.post(
        TOKEN,
        data=form | ({"resource": resource} if resource else {}),
        auth=(client_id, secret),
    )
