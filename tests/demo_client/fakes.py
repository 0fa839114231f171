"""A fake authorization server and resource server behind `httpx.MockTransport`."""

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

AS_INTERNAL = "http://as.internal"
RS_INTERNAL = "http://rs.internal"


@dataclass
class Grant:
    scope: str
    refresh_token: str | None


@dataclass
class FakeServers:
    """Issues `access-N` / `refresh-N` tokens; expired tokens get 401 invalid_token."""

    requests: list[httpx.Request] = field(default_factory=list)
    access: dict[str, str] = field(default_factory=dict)  # live access token -> scope
    refresh: dict[str, str] = field(default_factory=dict)  # live refresh token -> scope
    expired: set[str] = field(default_factory=set)
    revoked: list[tuple[str, str]] = field(default_factory=list)
    droplets: list[dict[str, Any]] = field(default_factory=list)
    registration: dict[str, Any] = field(
        default_factory=lambda: {
            "client_id": "dropletbook-service",
            "client_name": "Dropletbook (service)",
            "client_uri": "",
            "description": "before",
            "redirect_uris": [],
            "grant_types": ["client_credentials"],
            "scope": "read write",
            "client_type": "confidential",
        }
    )
    metadata: dict[str, Any] = field(
        default_factory=lambda: {"authorization_response_iss_parameter_supported": True}
    )
    token_error: dict[str, str] | None = None
    unreachable: bool = False
    unreachable_paths: set[str] = field(default_factory=set)
    counter: int = 0

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def form(self, request: httpx.Request) -> dict[str, str]:
        return dict(parse_qsl(request.content.decode()))

    def token_requests(self) -> list[dict[str, str]]:
        return [self.form(r) for r in self.requests if r.url.path == "/v1/oauth/token"]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        down = self.unreachable or request.url.path in self.unreachable_paths
        if down and str(request.url).startswith(AS_INTERNAL):
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path
        if path == "/.well-known/oauth-authorization-server":
            metadata = {"issuer": "https://as.example", **self.metadata}
            return httpx.Response(200, json=metadata)
        if path == "/v1/oauth/token":
            return self._token(request)
        if path == "/v1/oauth/revoke":
            form = self.form(request)
            self.revoked.append((form["token"], form.get("token_type_hint", "")))
            self.access.pop(form["token"], None)
            self.refresh.pop(form["token"], None)
            return httpx.Response(200)
        return self._protected(request)

    def issue(self, scope: str, *, refresh: bool = True) -> dict[str, Any]:
        self.counter += 1
        access = f"access-{self.counter}"
        self.access[access] = scope
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": 3600,
            "scope": scope,
        }
        if refresh:
            body["refresh_token"] = f"refresh-{self.counter}"
            self.refresh[body["refresh_token"]] = scope
            body["info"] = {"name": "Demo User", "email": "demo@example.com", "uuid": "u-1"}
        return body

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = self.form(request)
        headers = {"Cache-Control": "no-store"}
        if self.token_error is not None:
            return httpx.Response(400, json=self.token_error, headers=headers)
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            scope = self.refresh.pop(form.get("refresh_token", ""), None)  # rotation
            if scope is None:
                return httpx.Response(400, json={"error": "invalid_grant"}, headers=headers)
            return httpx.Response(200, json=self.issue(scope), headers=headers)
        if grant_type == "client_credentials":
            return httpx.Response(200, json=self.issue(form["scope"], refresh=False))
        if grant_type == "password":
            if form.get("password") != "demo-password":
                return httpx.Response(400, json={"error": "invalid_grant"}, headers=headers)
            return httpx.Response(200, json=self.issue(form.get("scope", "read")))
        scope = "read write" if form.get("code", "").startswith("write") else "read"
        return httpx.Response(200, json=self.issue(scope), headers=headers)

    def _protected(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token in self.expired or token not in self.access:
            challenge = 'Bearer realm="dropletbook", error="invalid_token", '
            challenge += 'error_description="token expired"'
            return httpx.Response(
                401, json={"error": "invalid_token"}, headers={"WWW-Authenticate": challenge}
            )
        scope = self.access[token].split()
        needs_write = request.method in ("POST", "DELETE", "PATCH")
        if needs_write and "write" not in scope:
            challenge = 'Bearer realm="dropletbook", error="insufficient_scope", scope="write"'
            return httpx.Response(
                403, json={"error": "insufficient_scope"}, headers={"WWW-Authenticate": challenge}
            )
        path = request.url.path
        if path == "/v2/account":
            account = {"uuid": "u-1", "email": None, "droplet_limit": 25, "status": "active"}
            return httpx.Response(200, json={"account": {**account, "kind": "user"}})
        if path == "/v2/droplets" and request.method == "GET":
            page = int(request.url.params.get("page", "1"))
            per_page = int(request.url.params.get("per_page", "20"))
            start = (page - 1) * per_page
            pages: dict[str, str] = {}
            if page > 1:
                pages["prev"] = f"{RS_INTERNAL}/v2/droplets?page={page - 1}"
            if start + per_page < len(self.droplets):
                pages["next"] = f"{RS_INTERNAL}/v2/droplets?page={page + 1}"
            body = {
                "droplets": self.droplets[start : start + per_page],
                "links": {"pages": pages},
                "meta": {"total": len(self.droplets)},
            }
            return httpx.Response(200, json=body)
        if path == "/v2/droplets" and request.method == "POST":
            droplet = {**json.loads(request.content), "id": len(self.droplets) + 1}
            droplet["status"] = "active"
            self.droplets.append(droplet)
            return httpx.Response(201, json={"droplet": droplet})
        if path.startswith("/v2/droplets/") and request.method == "DELETE":
            droplet_id = int(path.rsplit("/", 1)[1])
            self.droplets = [d for d in self.droplets if d["id"] != droplet_id]
            return httpx.Response(204)
        if path == "/v1/apps/self" and request.method == "GET":
            return httpx.Response(200, json=self.registration)
        if path == "/v1/apps/self" and request.method == "PATCH":
            self.registration.update(json.loads(request.content))
            return httpx.Response(200, json=self.registration)
        return httpx.Response(404, json={"error": "not_found"})


def basic_credentials(request: httpx.Request) -> tuple[str, str]:
    scheme, _, encoded = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    return client_id, secret
