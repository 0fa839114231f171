"""The ID token of the authorization code flow (OpenID Connect Core 1.0 §2, §3.1.3.6).

Signed with the algorithm the client registered (`id_token_signed_response_alg`, RS256 by
default) by the key store's current key of that algorithm; `typ` is `JWT`, never the
access tokens' `at+jwt`, so neither can pass for the other.
"""

import base64
import hashlib
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.authorization_server.keys import KeyStore
from services.authorization_server.oidc.claims import ClaimsSubject, user_claims
from shared.jwt import sign_jwt

ID_TOKEN_TYP = "JWT"  # noqa: S105 (a media type, not a secret)
ID_TOKEN_ALGORITHMS = ("RS256", "ES256")
"""What `id_token_signed_response_alg` and `userinfo_signed_response_alg` may name; RS256
first, the default Discovery 1.0 §3 requires."""


def at_hash(access_token: str) -> str:
    """Core §3.1.3.6: base64url of the left half of the SHA-256 of the token's ASCII; both
    RS256 and ES256 hash with SHA-256."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def id_token_claims(
    *,
    issuer: str,
    user: ClaimsSubject,
    client_id: str,
    scope: str,
    auth_time: datetime | None,
    nonce: str | None,
    sid: str | None,
    access_token: str | None,
    now: int,
    ttl: int,
) -> dict[str, Any]:
    """The claims: who (`sub`, and the consented profile and email claims), for whom
    (`aud`; a single audience, so no `azp`), when the user logged in, and the binding to
    the request (`nonce`) and to the access token beside it (`at_hash`)."""
    claims: dict[str, Any] = {
        "iss": issuer,
        **user_claims(user, scope),
        "aud": client_id,
        "iat": now,
        "exp": now + ttl,
    }
    optional = {
        "auth_time": int(auth_time.timestamp()) if auth_time is not None else None,
        "nonce": nonce,
        "sid": sid,
        "at_hash": at_hash(access_token) if access_token is not None else None,
    }
    return claims | {name: value for name, value in optional.items() if value is not None}


class IdTokenIssuer:
    """Signs ID tokens and signed UserInfo responses with the client's chosen algorithm."""

    def __init__(self, keys: KeyStore, *, issuer: str, ttl: int) -> None:
        self._keys = keys
        self.issuer = issuer
        self.ttl = ttl

    def sign(self, claims: Mapping[str, Any], *, algorithm: str) -> str:
        key = self._keys.signing_key(algorithm=algorithm)
        return sign_jwt(claims, key=key, typ=ID_TOKEN_TYP)

    def issue(
        self,
        *,
        user: ClaimsSubject,
        client_id: str,
        algorithm: str,
        scope: str,
        auth_time: datetime | None,
        nonce: str | None,
        sid: str | None,
        access_token: str | None,
    ) -> str:
        claims = id_token_claims(
            issuer=self.issuer,
            user=user,
            client_id=client_id,
            scope=scope,
            auth_time=auth_time,
            nonce=nonce,
            sid=sid,
            access_token=access_token,
            now=int(time.time()),
            ttl=self.ttl,
        )
        return self.sign(claims, algorithm=algorithm)
