"""The fake servers as an OpenID provider: discovery, a JWKS, ID Tokens in code responses,
UserInfo and an end-session endpoint, with knobs to make the ID Token wrong."""

import functools
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.demo_client.id_token import left_half_hash
from services.demo_client.oidc import SIGN_IN_SCOPE
from shared.jwt import SigningKey, generate_private_pem, load_signing_key, public_jwk, sign_jwt
from tests.demo_client.fakes import AS_INTERNAL, FakeServers

ISSUER = "https://as.example"
SUBJECT = "u-1"
JWKS_PATH = "/.well-known/jwks.json"
USERINFO_PATH = "/v1/oauth/userinfo"
END_SESSION_ENDPOINT = f"{ISSUER}/v1/oauth/logout"
_PROVIDER_PATHS = ("/.well-known/openid-configuration", JWKS_PATH, USERINFO_PATH, "/v1/oauth/token")


@functools.cache
def signing_key(algorithm: str = "RS256", kid: str = "provider-key") -> SigningKey:
    """One key per (algorithm, kid) for the whole run: RSA keys are slow to make."""
    return load_signing_key(
        kid=kid, algorithm=algorithm, private_pem=generate_private_pem(algorithm)
    )


def discovery_document() -> dict[str, Any]:
    return {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/v1/oauth/authorize",
        "token_endpoint": f"{ISSUER}/v1/oauth/token",
        "jwks_uri": f"{ISSUER}{JWKS_PATH}",
        "userinfo_endpoint": f"{ISSUER}{USERINFO_PATH}",
        "end_session_endpoint": END_SESSION_ENDPOINT,
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "authorization_response_iss_parameter_supported": True,
    }


@dataclass
class FakeProvider(FakeServers):
    """`nonce` is what the next ID Token echoes (the test copies it from the request);
    `claims` overrides claims of the next ID Token (None removes one); `signer` signs it."""

    nonce: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    signer: SigningKey = field(default_factory=signing_key)
    published: list[SigningKey] = field(default_factory=lambda: [signing_key()])
    discovery: dict[str, Any] = field(default_factory=discovery_document)
    userinfo: dict[str, Any] = field(
        default_factory=lambda: {
            "sub": SUBJECT,
            "name": "Demo User",
            "email": "demo@example.com",
            "email_verified": True,
        }
    )
    id_tokens: list[str] = field(default_factory=list)
    issue_id_token: bool = True

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        down = self.unreachable or path in self.unreachable_paths
        if down or not str(request.url).startswith(AS_INTERNAL) or path not in _PROVIDER_PATHS:
            return super().handle(request)
        self.requests.append(request)
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json=self.discovery)
        if path == JWKS_PATH:
            return httpx.Response(200, json={"keys": [public_jwk(k) for k in self.published]})
        if path == USERINFO_PATH:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self.access:
                return httpx.Response(401, json={"error": "invalid_token"})
            return httpx.Response(200, json=self.userinfo)
        form = self.form(request)
        if form.get("grant_type") != "authorization_code" or self.token_error is not None:
            return super()._token(request)
        body = self.issue(SIGN_IN_SCOPE)
        if self.issue_id_token:
            body["id_token"] = self.id_token(body["access_token"])
        return httpx.Response(200, json=body, headers={"Cache-Control": "no-store"})

    def id_token(self, access_token: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": SUBJECT,
            "aud": "dropletbook",
            "exp": now + 300,
            "iat": now,
            "auth_time": now,
            "nonce": self.nonce,
            "at_hash": left_half_hash(access_token, self.signer.algorithm),
            "sid": "session-1",
        }
        claims.update(self.claims)
        token = sign_jwt(
            {k: v for k, v in claims.items() if v is not None}, key=self.signer, typ="JWT"
        )
        self.id_tokens.append(token)
        return token
