"""OpenID Connect scopes and the user claims they release (Core 1.0 §5.1, §5.4).

`openid`, `profile` and `email` are identity scopes: any client with a redirecting grant
may ask for them, and the user decides on the consent screen, whose words are here.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from services.authorization_server.tokens import UserIdentity
from shared.scopes import parse_scope

OPENID = "openid"
IDENTITY_SCOPES: Mapping[str, str] = {
    OPENID: "Your Droplet Cloud account id (to sign you in)",
    "profile": "Your name",
    "email": "Your email address",
}
CLAIMS_OF_SCOPE: Mapping[str, tuple[str, ...]] = {
    "profile": ("name", "updated_at"),
    "email": ("email", "email_verified"),
}
# Claims of the ID token itself (Core §2), then those of the scopes.
ID_TOKEN_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid")
CLAIMS_SUPPORTED = [*ID_TOKEN_CLAIMS, *(c for claims in CLAIMS_OF_SCOPE.values() for c in claims)]


def is_openid(scope: str) -> bool:
    return OPENID in parse_scope(scope)


def scope_labels(settings_scopes: Mapping[str, str]) -> dict[str, str]:
    """Every supported scope with its consent-screen label: the identity scopes first."""
    return {**IDENTITY_SCOPES, **settings_scopes}


class ClaimsSubject(UserIdentity, Protocol):
    """The user record's columns the claims read: a `User`, or `token_store.Identity`."""

    @property
    def updated_at(self) -> datetime: ...


def user_claims(user: ClaimsSubject, scope: str) -> dict[str, Any]:
    """`sub` and the claims of the consented scopes, from the user record.

    An account exists only once its email address is confirmed (users.py) or the operator
    made it, so every stored address counts as verified."""
    scopes = parse_scope(scope)
    values: dict[str, Any] = {"sub": user.id}
    if "profile" in scopes:
        values |= {"name": user.name, "updated_at": int(user.updated_at.timestamp())}
    if "email" in scopes:
        values |= {"email": user.email, "email_verified": True}
    return values
