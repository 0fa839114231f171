"""Revocation (RFC 7009) and introspection (RFC 7662): what a presented token is, and ending it.

A token is looked up as a refresh token (by digest) and as an access token (by signature),
in the order the `token_type_hint` suggests; an unknown hint is ignored (RFC 7009 §2.1).
Revoking a user's last live grant to a client also withdraws the consent behind it.
"""

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.context import ServerContext
from services.authorization_server.models import RefreshToken
from services.authorization_server.tokens import read_access_token
from shared.crypto import hash_token
from shared.db import utcnow
from shared.errors import UnauthorizedClientError

_INACTIVE: dict[str, Any] = {"active": False}


def revoke(context: ServerContext, *, token: str, client: RegisteredClient) -> None:
    """Revoke a refresh token (and its whole family, see `_end_grant`) or an access token of
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


def _check_owner(owner_client_id: str, client: RegisteredClient) -> None:
    if owner_client_id != client.client_id:
        raise UnauthorizedClientError("the token was not issued to this client")
