"""Storage functions: keyword-only, returning `X | None` where a row may be missing."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from services.authorization_server.models import (
    EPOCH,
    AuthorizationCode,
    Client,
    Consent,
    IssuedAccessToken,
    PendingSignup,
    RefreshToken,
    RevokedAccessToken,
    RevokedClient,
    TokenFamily,
    User,
    UserSession,
)
from services.authorization_server.revocation_store import (
    live_family,
    revoke_family_statements,
    withdraw_consent_statements,
)
from shared.db import utcnow


def get_client(*, session: Session, client_id: str) -> Client | None:
    return session.get(Client, client_id)


def get_user(*, session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def get_session_user(*, session: Session, token_hash: str, now: datetime) -> User | None:
    row = session.get(UserSession, token_hash)
    if row is None or row.expires_at <= now:
        return None
    return session.get(User, row.user_id)


def delete_user_session(*, session: Session, token_hash: str) -> None:
    session.exec(delete(UserSession).where(col(UserSession.token_hash) == token_hash))


def get_consent(
    *, session: Session, user_id: str, client_id: str, response_type: str
) -> Consent | None:
    """What the user approved for the client with this response type (`code`, `token`)."""
    return session.exec(
        select(Consent).where(
            Consent.user_id == user_id,
            Consent.client_id == client_id,
            Consent.response_type == response_type,
        )
    ).first()


def list_live_grants(
    *, session: Session, user_id: str, now: datetime
) -> Sequence[tuple[TokenFamily, Client]]:
    """The user's grants still in use, with their clients (those of the password grant too,
    which records no consent)."""
    statement = (
        select(TokenFamily, Client)
        .join(Client, col(Client.client_id) == col(TokenFamily.client_id))
        .where(TokenFamily.user_id == user_id, live_family(now))
        .order_by(col(Client.name), col(Client.client_id))
    )
    return session.exec(statement).all()


def withdraw_consent(*, session: Session, user_id: str, client_id: str) -> None:
    """Forget every approval the user gave the client, and the codes not yet exchanged under
    them (a code must not outlive the consent it was issued on)."""
    for statement in withdraw_consent_statements(user_id, client_id):
        session.exec(statement)  # type: ignore[call-overload]


def list_consents(*, session: Session, user_id: str) -> Sequence[tuple[Consent, Client]]:
    statement = (
        select(Consent, Client)
        .join(Client, col(Client.client_id) == col(Consent.client_id))
        .where(Consent.user_id == user_id)
        .order_by(col(Client.name), col(Client.client_id), col(Consent.response_type))
    )
    return session.exec(statement).all()


def list_clients(*, session: Session, owner_id: str) -> Sequence[Client]:
    return session.exec(
        select(Client).where(Client.owner_id == owner_id).order_by(col(Client.created_at))
    ).all()


def get_refresh_token(
    *, session: Session, token_hash: str, reload: bool = False
) -> RefreshToken | None:
    """The stored refresh token; `reload` reads the row again rather than the session's copy."""
    return session.get(RefreshToken, token_hash, populate_existing=reload)


def revoke_family(*, session: Session, family_id: str, now: datetime | None = None) -> None:
    """Revoke a family: its refresh tokens die and its unexpired JWTs join the revoked set."""
    dialect = session.get_bind().dialect.name
    for statement in revoke_family_statements(family_id, now or utcnow(), dialect):
        session.exec(statement)  # type: ignore[call-overload]


def revoke_client_families(*, session: Session, user_id: str, client_id: str) -> None:
    families = session.exec(
        select(TokenFamily.id).where(
            TokenFamily.user_id == user_id,
            TokenFamily.client_id == client_id,
            col(TokenFamily.revoked_at).is_(None),
        )
    ).all()
    for family_id in families:
        revoke_family(session=session, family_id=family_id)


def is_access_token_revoked(*, session: Session, jti: str) -> bool:
    return session.get(RevokedAccessToken, jti) is not None


def list_revoked_access_tokens(*, session: Session, now: datetime) -> Sequence[RevokedAccessToken]:
    return session.exec(
        select(RevokedAccessToken).where(col(RevokedAccessToken.expires_at) > now)
    ).all()


def revoke_client(
    *,
    session: Session,
    client_id: str,
    revoked_at: datetime,
    expires_at: datetime,
    client_credentials_only: bool = False,
) -> None:
    """Refuse the client's access tokens issued at or before `revoked_at`, until `expires_at`;
    with `client_credentials_only` (a rotated secret), only its own client-credentials ones.

    A client id deleted again (only a fixed id can be re-registered) keeps the later bounds.
    """
    row = session.get(RevokedClient, client_id)
    if row is None:
        row = RevokedClient(client_id=client_id, revoked_at=EPOCH, expires_at=expires_at)
    row.expires_at = max(row.expires_at, expires_at)
    if client_credentials_only:
        row.client_credentials_revoked_at = max(row.client_credentials_revoked_at, revoked_at)
    else:
        row.revoked_at = max(row.revoked_at, revoked_at)
    session.add(row)
    session.flush()


def is_client_revoked(
    *, session: Session, client_id: str, issued_at: int, client_token: bool
) -> bool:
    """Whether a token of `client_id` with `iat` = `issued_at` predates the client's deletion,
    or (a `client_token`, `sub` = `client_id`) the rotation of its secret."""
    row = session.get(RevokedClient, client_id)
    if row is None:
        return False
    cutoff = (
        max(row.revoked_at, row.client_credentials_revoked_at) if client_token else row.revoked_at
    )
    return issued_at <= int(cutoff.timestamp())


def list_revoked_clients(*, session: Session, now: datetime) -> Sequence[RevokedClient]:
    return session.exec(select(RevokedClient).where(col(RevokedClient.expires_at) > now)).all()


def purge_expired(*, session: Session, now: datetime) -> None:
    """Drop rows that can no longer matter: expired codes, tokens, sessions, and the token
    families (grants) with no live token left, expired or revoked.

    Used codes are kept a day past expiry, so that a late replay still revokes its tokens.
    Consents go with their client or user (foreign keys cascade); they do not expire.
    """
    session.exec(
        delete(AuthorizationCode).where(
            col(AuthorizationCode.expires_at) <= now - timedelta(days=1)
        )
    )
    for table, column in (
        (RefreshToken, RefreshToken.expires_at),
        (IssuedAccessToken, IssuedAccessToken.expires_at),
        (RevokedAccessToken, RevokedAccessToken.expires_at),
        (RevokedClient, RevokedClient.expires_at),
        (UserSession, UserSession.expires_at),
        (PendingSignup, PendingSignup.expires_at),
    ):
        session.exec(delete(table).where(col(column) <= now))
    # Every family gets its first access-token record when it is created, in one transaction,
    # so a family without refresh tokens or access-token records is over for good.
    session.exec(
        delete(TokenFamily).where(
            ~select(RefreshToken.token_hash)
            .where(col(RefreshToken.family_id) == col(TokenFamily.id))
            .exists(),
            ~select(IssuedAccessToken.jti)
            .where(col(IssuedAccessToken.family_id) == col(TokenFamily.id))
            .exists(),
        )
    )
    session.commit()


def get_live_session(*, session: Session, token_hash: str, now: datetime) -> UserSession | None:
    """The unexpired login session of a cookie's token (OpenID Connect needs its times)."""
    row = session.get(UserSession, token_hash)
    return row if row is not None and row.expires_at > now else None
