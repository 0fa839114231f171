"""The relying party's view of an OpenID provider: discovery (OpenID Connect Discovery 1.0
§4), its signing keys (the JWKS at `jwks_uri`) and the RP-Initiated Logout URL (RP-Initiated
Logout 1.0 §2). The HTTP client is injected, like the rest of the back channel.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

OPENID_CONFIGURATION_PATH = "/.well-known/openid-configuration"
SIGN_IN_SCOPE = "openid profile email"


class ProviderError(Exception):
    """The provider's discovery document or JWKS could not be fetched or made no sense;
    `url` is the URL that failed (the internal one, so an operator can try it)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


def new_nonce() -> str:
    """The `nonce` that binds the ID Token to this browser's request (OIDC Core §3.1.2.1)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Provider:
    """What Dropletbook uses of the discovery document; URLs as published (public)."""

    issuer: str
    jwks_uri: str
    userinfo_endpoint: str
    end_session_endpoint: str | None
    id_token_algorithms: tuple[str, ...]
    document: dict[str, Any]


def get_json(http: httpx.Client, url: str) -> dict[str, Any]:
    """A JSON object from `url`; ProviderError on anything else."""
    try:
        response = http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ProviderError(url, type(exc).__name__) from None
    if response.status_code != 200:
        raise ProviderError(url, f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise ProviderError(url, "not JSON") from None
    if not isinstance(body, dict):
        raise ProviderError(url, "not a JSON object")
    return body


def discover(http: httpx.Client, *, issuer: str, internal_url: str) -> Provider:
    """The provider's configuration, read from the internal URL; its `issuer` must be exactly
    the one Dropletbook is configured with (Discovery §4.3), which also guards the endpoints."""
    url = f"{internal_url}{OPENID_CONFIGURATION_PATH}"
    document = get_json(http, url)
    if document.get("issuer") != issuer:
        raise ProviderError(url, f"issuer {document.get('issuer')!r} is not {issuer!r}")
    endpoints = {name: document.get(name) for name in ("jwks_uri", "userinfo_endpoint")}
    for name, value in endpoints.items():
        if not isinstance(value, str) or not value.startswith(issuer + "/"):
            raise ProviderError(url, f"{name} missing or not on the issuer's origin")
    end_session = document.get("end_session_endpoint")
    algorithms = document.get("id_token_signing_alg_values_supported")
    return Provider(
        issuer=issuer,
        jwks_uri=str(endpoints["jwks_uri"]),
        userinfo_endpoint=str(endpoints["userinfo_endpoint"]),
        end_session_endpoint=end_session if isinstance(end_session, str) else None,
        id_token_algorithms=tuple(str(a) for a in algorithms or () if isinstance(a, str)),
        document=document,
    )


def path_on_issuer(url: str, issuer: str) -> str:
    """The path of an endpoint published under the issuer, to call it on the internal URL."""
    if not url.startswith(issuer + "/"):
        raise ValueError(f"{url} is not on {issuer}")
    return url[len(issuer) :]


def end_session_url(endpoint: str, params: Mapping[str, str]) -> str:
    """Where the browser goes to log out at the provider (RP-Initiated Logout §2)."""
    separator = "&" if "?" in endpoint else "?"
    return f"{endpoint}{separator}{urlencode(params)}"
