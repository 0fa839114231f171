"""Client registration: register, rotate the secret of, update and delete a client, by the
rules of client_rules.py; shared by the developer portal, RFC 7591 and `/v1/apps/self`."""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from services.authorization_server import repository
from services.authorization_server.client_rules import (
    CLIENT_TYPES,
    RegistrationError,
    check_description,
    check_grant_types,
    check_name,
    check_scope,
    normalize_redirect_uris,
    validate_website,
)
from services.authorization_server.grants import REDIRECTING_GRANTS
from services.authorization_server.models import Client, TokenFamily, User
from shared.crypto import hash_token, new_token
from shared.db import utcnow

__all__ = [
    "REVOKED_CLIENT_LEEWAY",
    "RegistrationError",
    "check_app_quota",
    "delete_client",
    "register_client",
    "rotate_secret",
    "update_client",
]

# A deleted client stays in the revoked-client feed this long past its last token's `exp`:
# resource servers accept a token up to their clock-skew leeway after it (RS_LEEWAY <= 300).
REVOKED_CLIENT_LEEWAY = timedelta(seconds=300)


def check_app_quota(session: Session, *, owner_id: str, max_apps: int) -> None:
    """An owner registers at most `max_apps` clients (`AS_MAX_APPS_PER_USER`)."""
    # Lock the owner's row (PostgreSQL) so that concurrent registrations count one by one.
    session.exec(select(User).where(User.id == owner_id).with_for_update()).first()
    count = session.exec(
        select(func.count()).select_from(Client).where(col(Client.owner_id) == owner_id)
    ).one()
    if count >= max_apps:
        raise RegistrationError(
            f"You have reached the limit of {max_apps} applications; "
            "delete one before registering another.",
            field="owner",
        )


def register_client(
    session: Session,
    *,
    name: str,
    website: str = "",
    description: str = "",
    redirect_uris: Iterable[str] = (),
    client_type: str = "confidential",
    grant_types: Iterable[str] = ("authorization_code", "refresh_token"),
    scope: str = "read write",
    supported_scopes: Iterable[str] = ("read", "write"),
    trusted: bool = False,
    owner_id: str | None = None,
    client_id: str | None = None,
    max_apps: int | None = None,
    oidc_columns: dict[str, Any] | None = None,
) -> tuple[Client, str | None]:
    """Validate and store a client; returns it with its secret (None for public clients).

    The secret is returned once and only its SHA-256 digest is kept. With an owner and
    `max_apps`, an owner who has that many clients already is refused.
    """
    name = check_name(name)
    if client_type not in CLIENT_TYPES:
        raise RegistrationError("Client type must be confidential or public.", field="client_type")
    description = check_description(description)
    chosen = check_grant_types(grant_types, client_type=client_type, trusted=trusted)
    uris = normalize_redirect_uris(redirect_uris, required=bool(REDIRECTING_GRANTS & set(chosen)))
    website = validate_website(website)
    scope = check_scope(scope, supported=supported_scopes)
    if owner_id is not None and max_apps is not None:
        check_app_quota(session, owner_id=owner_id, max_apps=max_apps)
    secret = new_token() if client_type == "confidential" else None
    client = Client(
        client_id=client_id or new_token(16),
        client_secret_hash=hash_token(secret) if secret else None,
        name=name,
        website=website,
        description=description,
        redirect_uris=uris,
        grant_types=chosen,
        scope=scope,
        client_type=client_type,
        trusted=trusted,
        owner_id=owner_id,
        **(oidc_columns or {}),  # oidc/client_metadata.py, checked by the caller
    )
    session.add(client)
    session.commit()
    return client, secret


def rotate_secret(
    session: Session, client: Client, *, access_token_ttl: int, client_cache_ttl: float
) -> str:
    """A new secret for a confidential client; the old one stops working at once here and
    within `client_cache_ttl` on other replicas.

    Whoever held the old secret may hold client-credentials tokens from it: they are JWTs
    recorded nowhere, so the client joins the revoked clients for its client-credentials
    tokens issued up to the moment no replica accepts the old secret (users' tokens stay).
    Until then the client-credentials grant answers 503 (`client_credentials.py`), so that
    no token from the new secret falls before that cut-off.
    """
    if client.is_public:
        raise RegistrationError("Public clients have no secret to rotate.", field="client_type")
    secret = new_token()
    now = utcnow()
    client.client_secret_hash = hash_token(secret)
    client.updated_at = now
    revoked_at = now + timedelta(seconds=client_cache_ttl)
    client.client_credentials_revoked_at = revoked_at
    repository.revoke_client(
        session=session,
        client_id=client.client_id,
        revoked_at=revoked_at,
        expires_at=revoked_at + timedelta(seconds=access_token_ttl) + REVOKED_CLIENT_LEEWAY,
        client_credentials_only=True,
    )
    session.add(client)
    session.commit()
    return secret


def update_client(
    session: Session,
    client: Client,
    *,
    name: str | None = None,
    website: str | None = None,
    description: str | None = None,
    redirect_uris: Iterable[str] | None = None,
    grant_types: Iterable[str] | None = None,
    oidc_columns: dict[str, Any] | None = None,
) -> Client:
    """Change a registration with the rules `register_client` applies; None keeps a value.

    Type and `trusted` never change here: the password grant stays for trusted clients.
    """
    # Validate everything before touching the row, so a refusal leaves it as it was.
    new_name = client.name if name is None else check_name(name)
    new_website = client.website if website is None else validate_website(website)
    new_description = client.description if description is None else check_description(description)
    chosen = (
        list(client.grant_types)
        if grant_types is None
        else check_grant_types(grant_types, client_type=client.client_type, trusted=client.trusted)
    )
    uris = normalize_redirect_uris(
        client.redirect_uris if redirect_uris is None else redirect_uris,
        required=bool(REDIRECTING_GRANTS & set(chosen)),
    )
    client.name, client.website, client.description = new_name, new_website, new_description
    client.redirect_uris = uris
    client.grant_types = chosen
    for name, value in (oidc_columns or {}).items():  # checked by the caller
        setattr(client, name, value)
    client.updated_at = utcnow()
    session.add(client)
    session.commit()
    return client


def delete_client(
    session: Session, client: Client, *, access_token_ttl: int, client_cache_ttl: float
) -> None:
    """Remove a client after revoking every grant it holds, so its JWTs stop too.

    The database cascades codes, consents and token families; revoking first puts the
    unexpired access tokens of those families on the revoked list that outlives them.
    Client-credentials tokens are recorded nowhere, so the client itself joins the revoked
    clients, in the same transaction, until its last access token has expired.
    """
    now = utcnow()
    families = session.exec(
        select(TokenFamily.id).where(
            TokenFamily.client_id == client.client_id, col(TokenFamily.revoked_at).is_(None)
        )
    ).all()
    for family_id in families:
        repository.revoke_family(session=session, family_id=family_id, now=now)
    # Other replicas may still issue tokens from their client cache for `client_cache_ttl`.
    revoked_at = now + timedelta(seconds=client_cache_ttl)
    repository.revoke_client(
        session=session,
        client_id=client.client_id,
        revoked_at=revoked_at,
        expires_at=revoked_at + timedelta(seconds=access_token_ttl) + REVOKED_CLIENT_LEEWAY,
    )
    session.delete(client)
    session.commit()
