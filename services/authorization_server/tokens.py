"""Access tokens as RFC 9068 JWTs, and the RFC 6749 §5.1 token response."""

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from services.authorization_server.keys import KeyStore
from shared.errors import InvalidTokenError
from shared.jwt import sign_jwt, unverified_header, verify_jwt


class UserIdentity(Protocol):
    """Who a user token acts for: a `User`, or the columns the token paths read of one."""

    @property
    def id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class AccessTokenStamp:
    """A token's id and lifetime, fixed before it is signed: the refresh path stores the
    token's record in the statement that claims the grant, and signs once it is known."""

    jti: str
    iat: int
    exp: int

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.exp, UTC)


@dataclass(frozen=True, slots=True)
class AccessToken(AccessTokenStamp):
    value: str
    expires_in: int


class AccessTokenIssuer:
    def __init__(self, keys: KeyStore, *, issuer: str, audience: str, ttl: int) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl

    def stamp(self) -> AccessTokenStamp:
        now = int(time.time())
        return AccessTokenStamp(jti=secrets.token_urlsafe(16), iat=now, exp=now + self._ttl)

    def issue(
        self, *, subject: str, client_id: str, scope: str, audience: str | None = None
    ) -> AccessToken:
        """A token for `subject`: a client id (client credentials) or a user id; for
        `audience` (RFC 8707 resource), by default the resource server's."""
        return self._issue(
            subject=subject, client_id=client_id, scope=scope, audience=audience, identity={}
        )

    def issue_for_user(
        self,
        *,
        user: UserIdentity,
        client_id: str,
        scope: str,
        audience: str | None = None,
        stamp: AccessTokenStamp | None = None,
    ) -> AccessToken:
        """A user's token also names the user's email (RFC 9068 §2.2.3.1 identity claims),
        so resource servers can show whose account it is without calling back."""
        return self._issue(
            subject=user.id,
            client_id=client_id,
            scope=scope,
            audience=audience,
            identity={"email": user.email},
            stamp=stamp,
        )

    def _issue(
        self,
        *,
        subject: str,
        client_id: str,
        scope: str,
        audience: str | None,
        identity: dict[str, str],
        stamp: AccessTokenStamp | None = None,
    ) -> AccessToken:
        stamp = stamp or self.stamp()
        claims = {
            "iss": self._issuer,
            "sub": subject,
            "aud": audience or self._audience,
            "client_id": client_id,
            "scope": scope,
            "iat": stamp.iat,
            "exp": stamp.exp,
            "jti": stamp.jti,
            **identity,
        }
        value = sign_jwt(claims, key=self._keys.signing_key())
        return AccessToken(stamp.jti, stamp.iat, stamp.exp, value=value, expires_in=self._ttl)


def user_info(user: UserIdentity) -> dict[str, str]:
    """The tutorial's `info` member: who authorized the token."""
    return {"name": user.name, "email": user.email, "uuid": user.id}


def token_response(
    access: AccessToken,
    *,
    scope: str,
    refresh_token: str | None = None,
    user: UserIdentity | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": access.value,
        "token_type": "bearer",
        "expires_in": access.expires_in,
        "scope": scope,
    }
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    if user is not None:
        body["info"] = user_info(user)
    return body


def read_access_token(token: str, *, keys: KeyStore, issuer: str) -> dict[str, Any] | None:
    """Claims of a valid, unexpired access token this server signed; None for anything else."""
    try:
        kid = unverified_header(token).get("kid")
        key = keys.verification_key(kid) if isinstance(kid, str) else None
        if key is None:
            return None
        return verify_jwt(token, key=key, issuer=issuer, audience=None, leeway=0)
    except InvalidTokenError:
        return None
