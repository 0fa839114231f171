"""Route protection with bearer tokens (RFC 6750): `require_scope(...)` returns typed claims.

Scopes are declared per route with FastAPI security scopes, so they appear in the
OpenAPI document and are enforced here, never in handlers.
"""

import re
from typing import Annotated, Any

from fastapi import Request, Security
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase

from services.resource_server.context import ResourceContext
from services.resource_server.verifier import AccessTokenClaims
from shared.errors import (
    BearerError,
    BearerInvalidRequestError,
    InsufficientScopeError,
    InvalidTokenError,
    MissingTokenError,
)

__all__ = ["AccessTokenClaims", "ReadClaims", "WriteClaims", "bearer_token", "require_scope"]

# RFC 6750 §2.1 b64token
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def bearer_token(request: Request, *, realm: str) -> str:
    """The token of the Authorization header (RFC 6750 §2.1), the only method accepted.

    A token in the query string (§2.3) is refused: URLs end up in logs and histories.
    """
    headers = request.headers.getlist("authorization")
    in_query = bool(request.scope["query_string"]) and "access_token" in request.query_params
    if len(headers) > 1 or (headers and in_query):
        raise BearerInvalidRequestError("token sent more than once", realm=realm)
    if in_query:
        raise BearerInvalidRequestError(
            "send the token in the Authorization header, not the query string", realm=realm
        )
    if not headers:
        raise MissingTokenError(realm=realm)
    scheme, _, token = headers[0].partition(" ")
    if scheme.lower() != "bearer":
        raise MissingTokenError(realm=realm)  # no bearer credentials: a bare challenge
    token = token.strip()
    if not _B64TOKEN.fullmatch(token):
        raise InvalidTokenError("malformed token", realm=realm)
    return token


class BearerAuth(SecurityBase):
    """The `bearer` security scheme: verifies the token and checks the route's scopes."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(
            bearerFormat="JWT",
            description="RFC 9068 access token from the authorization server's token endpoint",
        )
        self.scheme_name = "bearer"

    async def __call__(
        self, request: Request, security_scopes: SecurityScopes
    ) -> AccessTokenClaims:
        context: ResourceContext = request.app.state.context
        realm = context.settings.realm
        token = bearer_token(request, realm=realm)
        try:
            claims = await context.verifier.verify(token)
        except BearerError as exc:
            raise InvalidTokenError(exc.description, realm=realm) from None
        required = security_scopes.scopes
        if not claims.scope.issuperset(required):
            raise InsufficientScopeError(
                "the token lacks a required scope", scope=" ".join(required), realm=realm
            )
        return claims


_BEARER = BearerAuth()


def require_scope(*scopes: str) -> Any:
    """A dependency giving the claims of a valid token that holds every one of `scopes`."""
    return Security(_BEARER, scopes=list(scopes))


ReadClaims = Annotated[AccessTokenClaims, require_scope("read")]
WriteClaims = Annotated[AccessTokenClaims, require_scope("write")]
