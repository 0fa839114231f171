"""Token introspection, RFC 7662: whether a presented token is active, and its claims.

A token is looked up as an access token (by signature) and then as a refresh token (by
digest); `token_type_hint` only orders lookups, and an unknown hint is ignored (§2.1).
"""

from typing import Any

from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.context import ServerContext
from services.authorization_server.models import RefreshToken
from services.authorization_server.tokens import read_access_token
from shared.crypto import hash_token
from shared.db import utcnow

_INACTIVE: dict[str, Any] = {"active": False}


def introspect(context: ServerContext, *, token: str, client: RegisteredClient) -> dict[str, Any]:
    """RFC 7662 §2.2. A client learns about its own tokens only; the protected resources
    listed in `introspection_clients` about every token. Any other token is answered
    `{"active": false}`, so a client cannot read another's `sub` and `email` (§4)."""
    sees_all = client.client_id in context.settings.introspection_clients
    with Session(context.engine, expire_on_commit=False) as session:
        claims = read_access_token(token, keys=context.keys, issuer=context.settings.issuer)
        if claims is not None:
            if not (sees_all or claims.get("client_id") == client.client_id):
                return _INACTIVE
            if _is_revoked(session, claims):
                return _INACTIVE
            return {"active": True, "token_type": "bearer", **claims}
        refresh = repository.get_refresh_token(session=session, token_hash=hash_token(token))
        if refresh is None or not (sees_all or refresh.client_id == client.client_id):
            return _INACTIVE
        return _describe_refresh_token(session, refresh)


def _is_revoked(session: Session, claims: dict[str, Any]) -> bool:
    """Its `jti` was revoked, or its client was deleted after issuing it."""
    if repository.is_access_token_revoked(session=session, jti=str(claims["jti"])):
        return True
    iat = claims.get("iat")
    return repository.is_client_revoked(
        session=session,
        client_id=str(claims.get("client_id")),
        issued_at=iat if isinstance(iat, int) else 0,
    )


def _describe_refresh_token(session: Session, refresh: RefreshToken) -> dict[str, Any]:
    family = repository.get_family(session=session, family_id=refresh.family_id)
    now = utcnow()
    if (
        family is None
        or family.revoked_at is not None
        or refresh.rotated_at is not None
        or refresh.expires_at <= now
    ):
        return _INACTIVE
    return {
        "active": True,
        "token_type": "refresh_token",
        "scope": refresh.scope,
        "client_id": refresh.client_id,
        "sub": family.user_id,
        "iat": int(refresh.created_at.timestamp()),
        "exp": int(refresh.expires_at.timestamp()),
    }
