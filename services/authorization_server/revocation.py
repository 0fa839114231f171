"""Token revocation, RFC 7009: a client ends its own refresh or access token.

A refresh token ends with its whole grant (its token family); an access token by its `jti`.
Revoking a user's last live grant to a client also withdraws the consent behind it.
Both run on the event loop (`ServerContext.db`).
"""

from datetime import UTC, datetime

from sqlmodel import col, select

from services.authorization_server import token_store
from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.context import ServerContext
from services.authorization_server.models import RevokedAccessToken, RevokedClient
from services.authorization_server.revocation_store import end_grant, revoke_access_token
from services.authorization_server.tokens import read_access_token
from shared.crypto import hash_token
from shared.db import utcnow
from shared.errors import UnauthorizedClientError


async def revoke(context: ServerContext, *, token: str, client: RegisteredClient) -> None:
    """Revoke a refresh token (and its whole grant, see `end_grant`) or an access token of
    `client`.

    Unknown or expired tokens are not an error (RFC 7009 §2.2); another client's token is.
    """
    async with context.db.connect() as conn:
        refresh = await token_store.find_refresh_token(conn, token_hash=hash_token(token))
        if refresh is not None:
            _check_owner(refresh.client_id, client)
            await end_grant(conn, family_id=refresh.family_id, now=utcnow())
            await conn.commit()
            return
        claims = read_access_token(token, keys=context.keys, issuer=context.settings.issuer)
        if claims is None:
            return
        _check_owner(str(claims.get("client_id")), client)
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        await revoke_access_token(conn, jti=str(claims["jti"]), expires_at=expires_at, now=utcnow())
        await conn.commit()


async def revoked_feed(context: ServerContext) -> dict[str, list[dict[str, object]]]:
    """Revoked, unexpired access-token ids and deleted clients (for resource servers)."""
    now = utcnow()
    async with context.db.connect() as conn:
        tokens = await conn.execute(
            select(RevokedAccessToken.jti, RevokedAccessToken.expires_at).where(
                col(RevokedAccessToken.expires_at) > now
            )
        )
        revoked = [{"jti": jti, "exp": int(exp.timestamp())} for jti, exp in tokens]
        clients = await conn.execute(
            select(
                RevokedClient.client_id,
                RevokedClient.revoked_at,
                RevokedClient.expires_at,
                RevokedClient.client_credentials_revoked_at,
            ).where(col(RevokedClient.expires_at) > now)
        )
        revoked_clients: list[dict[str, object]] = [
            {
                "client_id": client_id,
                "revoked_at": int(revoked_at.timestamp()),
                "exp": int(expires_at.timestamp()),
                "client_credentials_revoked_at": int(client_credentials_at.timestamp()),
            }
            for client_id, revoked_at, expires_at, client_credentials_at in clients
        ]
    return {"revoked": revoked, "revoked_clients": revoked_clients}


def _check_owner(owner_client_id: str, client: RegisteredClient) -> None:
    if owner_client_id != client.client_id:
        raise UnauthorizedClientError("the token was not issued to this client")
