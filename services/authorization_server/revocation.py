"""Token revocation, RFC 7009: a client ends its own refresh or access token.

A refresh token ends with its whole grant (its token family); an access token by its `jti`.
Revoking a user's last live grant to a client also withdraws the consent behind it.
"""

from datetime import UTC, datetime

from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.context import ServerContext
from services.authorization_server.models import RefreshToken
from services.authorization_server.tokens import read_access_token
from shared.crypto import hash_token
from shared.db import utcnow
from shared.errors import UnauthorizedClientError


def revoke(context: ServerContext, *, token: str, client: RegisteredClient) -> None:
    """Revoke a refresh token (and its whole grant, see `_end_grant`) or an access token of
    `client`.

    Unknown or expired tokens are not an error (RFC 7009 §2.2); another client's token is.
    """
    with Session(context.engine, expire_on_commit=False) as session:
        refresh = repository.get_refresh_token(session=session, token_hash=hash_token(token))
        if refresh is not None:
            _check_owner(refresh.client_id, client)
            _end_grant(session, refresh)
            session.commit()
            return
        claims = read_access_token(token, keys=context.keys, issuer=context.settings.issuer)
        if claims is None:
            return
        _check_owner(str(claims.get("client_id")), client)
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        repository.revoke_access_token(
            session=session, jti=str(claims["jti"]), expires_at=expires_at
        )
        session.commit()


def _end_grant(session: Session, refresh: RefreshToken) -> None:
    """Revoke the refresh token's whole grant; when it was the user's last live grant to the
    client, withdraw the consent too, so the app leaves the user's authorized apps and a new
    authorization request shows the consent screen again."""
    family = repository.get_family(session=session, family_id=refresh.family_id)
    now = utcnow()
    repository.revoke_family(session=session, family_id=refresh.family_id, now=now)
    if family is None or family.user_id is None:
        return
    user_id, client_id = family.user_id, family.client_id
    if not repository.has_live_grant(
        session=session, user_id=user_id, client_id=client_id, now=now
    ):
        repository.withdraw_consent(session=session, user_id=user_id, client_id=client_id)


def revoked_feed(context: ServerContext) -> dict[str, list[dict[str, object]]]:
    """Revoked, unexpired access-token ids and deleted clients (for resource servers)."""
    now = utcnow()
    with Session(context.engine) as session:
        tokens = repository.list_revoked_access_tokens(session=session, now=now)
        clients = repository.list_revoked_clients(session=session, now=now)
        return {
            "revoked": [{"jti": r.jti, "exp": int(r.expires_at.timestamp())} for r in tokens],
            "revoked_clients": [
                {
                    "client_id": c.client_id,
                    "revoked_at": int(c.revoked_at.timestamp()),
                    "exp": int(c.expires_at.timestamp()),
                }
                for c in clients
            ],
        }


def _check_owner(owner_client_id: str, client: RegisteredClient) -> None:
    if owner_client_id != client.client_id:
        raise UnauthorizedClientError("the token was not issued to this client")
