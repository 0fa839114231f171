"""The client side of OAuth 2: authorization URLs with `state` and PKCE (RFC 6749 §4.1.1,
RFC 7636), back-channel token requests (RFC 6749 §4.1.3, §4.3, §4.4, §6) and revocation
(RFC 7009). The HTTP client is injected, so tests use `httpx.MockTransport`.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx

METADATA_PATH = "/.well-known/oauth-authorization-server"
APPS_API_PATH = "/v1/apps"


def apps_api_resource(issuer: str) -> str:
    """The RFC 8707 identifier of the server's app-management API: its base URI, as the
    server derives it by default (`AS_APPS_API_RESOURCE`, `resources_supported`)."""
    return f"{issuer}{APPS_API_PATH}"


AUTHORIZE_PATH = "/v1/oauth/authorize"
TOKEN_PATH = "/v1/oauth/token"  # noqa: S105 (a path, not a secret)
REVOKE_PATH = "/v1/oauth/revoke"
BEARER = "bearer"  # RFC 6750 token type, compared case-insensitively


def new_state() -> str:
    """An unguessable `state`, bound to the browser session (RFC 6749 §10.12)."""
    return secrets.token_urlsafe(24)


def state_matches(expected: str | None, received: str | None) -> bool:
    """Constant-time comparison; a missing value on either side never matches."""
    if not expected or not received:
        return False
    return hmac.compare_digest(expected.encode(), received.encode())


@dataclass(frozen=True)
class PkcePair:
    """RFC 7636 §4.1-4.2: the verifier stays here, the S256 challenge goes in the URL."""

    verifier: str
    challenge: str
    method: str = "S256"


def s256_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_pkce_pair() -> PkcePair:
    verifier = secrets.token_urlsafe(48)  # 64 unreserved characters (43-128 allowed)
    return PkcePair(verifier=verifier, challenge=s256_challenge(verifier))


def authorize_parameters(
    *,
    response_type: str,
    client_id: str,
    redirect_uri: str,
    scope: str,
    state: str,
    pkce: PkcePair | None = None,
) -> dict[str, str]:
    params = {
        "response_type": response_type,
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
    }
    if pkce is not None:
        params["code_challenge"] = pkce.challenge
        params["code_challenge_method"] = pkce.method
    return params


def build_authorize_url(issuer: str, params: Mapping[str, str]) -> str:
    """The authorization endpoint on the server's public URL, where the browser goes."""
    return f"{issuer}{AUTHORIZE_PATH}?{urlencode(params)}"


class AuthorizationServerUnreachableError(Exception):
    """The back channel could not reach the authorization server at all."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass
class Exchange:
    """One back-channel request and its answer, as the inspector shows them."""

    method: str
    url: str
    form: dict[str, str]
    status: int
    body: Any
    client_auth: str = ""
    request_headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


class TokenRequestError(Exception):
    """The token or revocation endpoint answered with an RFC 6749 §5.2 error."""

    def __init__(self, exchange: Exchange) -> None:
        body = exchange.json()
        self.exchange = exchange
        self.error = str(body.get("error") or f"http_{exchange.status}")
        self.description = str(body.get("error_description") or "")
        super().__init__(f"{self.error}: {self.description}")


@dataclass(frozen=True)
class Tokens:
    """A successful token response (RFC 6749 §5.1)."""

    access_token: str
    token_type: str
    expires_in: int | None
    scope: str
    refresh_token: str | None
    info: dict[str, Any]

    @classmethod
    def from_exchange(cls, exchange: Exchange, *, requested_scope: str = "") -> "Tokens":
        body = exchange.json()
        access_token = body.get("access_token")
        token_type = str(body.get("token_type", "")).lower()
        if not isinstance(access_token, str) or token_type != BEARER:
            bad = {"error": "invalid_response", "error_description": "no bearer token"}
            raise TokenRequestError(
                Exchange(exchange.method, exchange.url, exchange.form, exchange.status, bad)
            )
        expires_in = body.get("expires_in")
        info = body.get("info")
        refresh_token = body.get("refresh_token")
        return cls(
            access_token=access_token,
            token_type=BEARER,
            expires_in=int(expires_in) if isinstance(expires_in, int | str) else None,
            # RFC 6749 §5.1: an omitted scope means the requested one was granted.
            scope=str(body.get("scope") or requested_scope),
            refresh_token=refresh_token if isinstance(refresh_token, str) else None,
            info=info if isinstance(info, dict) else {},
        )


@dataclass(frozen=True)
class TokenResult:
    tokens: Tokens
    exchange: Exchange


def basic_authorization(client_id: str, client_secret: str) -> str:
    """`client_secret_basic`: each part form-urlencoded first (RFC 6749 §2.3.1)."""
    raw = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(raw.encode()).decode("ascii")


class TokenClient:
    """Back-channel calls of one registered client to the authorization server."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        base_url: str,
        client_id: str,
        client_secret: str | None,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenResult:
        """RFC 6749 §4.1.3 with the PKCE verifier (RFC 7636 §4.5)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        return self.request_tokens(form)

    def refresh(self, *, refresh_token: str) -> TokenResult:
        """RFC 6749 §6; the server rotates the refresh token on each use."""
        return self.request_tokens({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def password(self, *, username: str, password: str, scope: str) -> TokenResult:
        """RFC 6749 §4.3: only for a trusted, first-party client."""
        form = {"grant_type": "password", "username": username, "password": password}
        return self.request_tokens({**form, "scope": scope})

    def client_credentials(self, *, scope: str, resource: str | None = None) -> TokenResult:
        """RFC 6749 §4.4: the client acting on its own account; `resource` (RFC 8707) names
        the API the token is for, by default the server's default audience."""
        form = {"grant_type": "client_credentials", "scope": scope}
        return self.request_tokens(form | ({"resource": resource} if resource else {}))

    def revoke(self, *, token: str, token_type_hint: str) -> Exchange:
        """RFC 7009 §2.1; 200 also for tokens that were already invalid."""
        exchange = self._post(REVOKE_PATH, {"token": token, "token_type_hint": token_type_hint})
        if not exchange.ok:
            raise TokenRequestError(exchange)
        return exchange

    def request_tokens(self, form: dict[str, str]) -> TokenResult:
        exchange = self._post(TOKEN_PATH, form)
        if not exchange.ok:
            raise TokenRequestError(exchange)
        tokens = Tokens.from_exchange(exchange, requested_scope=form.get("scope", ""))
        return TokenResult(tokens, exchange)

    def _post(self, path: str, form: dict[str, str]) -> Exchange:
        url = f"{self.base_url}{path}"
        headers = {"Accept": "application/json"}
        if self._client_secret is not None:
            headers["Authorization"] = basic_authorization(self.client_id, self._client_secret)
            client_auth = "client_secret_basic"
        else:
            form = {**form, "client_id": self.client_id}  # a public client identifies itself
            client_auth = "none (public client)"
        try:
            response = self.http.post(url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise AuthorizationServerUnreachableError(url, type(exc).__name__) from None
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:2000]
        return Exchange(
            "POST",
            url,
            form,
            response.status_code,
            body,
            client_auth=client_auth,
            request_headers=headers,
        )
