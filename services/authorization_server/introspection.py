"""Token introspection, RFC 7662: whether a presented token is active, and its claims.

A token is looked up as an access token (by signature) and then as a refresh token (by
digest); `token_type_hint` only orders lookups, and an unknown hint is ignored (§2.1).
Runs on the event loop (`ServerContext.db`), one query per token.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists
from sqlmodel import col, select

from services.authorization_server import token_store
from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.context import ServerContext
from services.authorization_server.models import RevokedAccessToken, RevokedClient
from services.authorization_server.tokens import read_access_token
from shared.crypto import hash_token
from shared.db import utcnow

_INACTIVE: dict[str, Any] = {"active": False}


async def introspect(
    context: ServerContext, *, token: str, client: RegisteredClient
) -> dict[str, Any]:
    """RFC 7662 §2.2. A client learns about its own tokens only; the protected resources
    listed in `introspection_clients` about every token. Any other token is answered
    `{"active": false}`, so a client cannot read another's `sub` and `email` (§4)."""
    sees_all = client.client_id in context.settings.introspection_clients
    claims = read_access_token(token, keys=context.keys, issuer=context.settings.issuer)
    async with context.db.connect() as conn:
        if claims is not None:
            if not (sees_all or claims.get("client_id") == client.client_id):
                return _INACTIVE
            revoked = (await conn.execute(_revoked_query(claims))).scalar_one()
            if revoked:
                return _INACTIVE
            return {"active": True, "token_type": "bearer", **claims}
        refresh = await token_store.find_refresh_token(conn, token_hash=hash_token(token))
    if refresh is None or not (sees_all or refresh.client_id == client.client_id):
        return _INACTIVE
    if not refresh.usable or refresh.rotated_at is not None or refresh.expires_at <= utcnow():
        return _INACTIVE
    return {
        "active": True,
        "token_type": "refresh_token",
        "scope": refresh.scope,
        "client_id": refresh.client_id,
        "sub": refresh.user_id,
        "iat": int(refresh.created_at.timestamp()),
        "exp": int(refresh.expires_at.timestamp()),
    }


def _revoked_query(claims: dict[str, Any]) -> Any:
    """Whether the token's `jti` was revoked, or its client deleted after issuing it."""
    iat = claims.get("iat")
    issued_at = datetime.fromtimestamp(iat if isinstance(iat, int) else 0, UTC)
    jti_revoked = exists().where(col(RevokedAccessToken.jti) == str(claims["jti"]))
    client_id = str(claims.get("client_id"))
    cutoff = col(RevokedClient.revoked_at) >= issued_at
    if claims.get("sub") == client_id:  # a client-credentials token: a rotated secret too
        cutoff = cutoff | (col(RevokedClient.client_credentials_revoked_at) >= issued_at)
    client_revoked = exists().where(col(RevokedClient.client_id) == client_id, cutoff)
    return select(jti_revoked | client_revoked)
