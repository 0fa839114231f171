"""Client registration rules shared by the developer portal, RFC 7591 and `/v1/apps/self`."""

import ipaddress
import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, func, select

from services.authorization_server import repository
from services.authorization_server.grants import GRANT_TYPES, GRANTS, REDIRECTING_GRANTS
from services.authorization_server.models import Client, TokenFamily, User
from shared.crypto import hash_token, new_token
from shared.db import utcnow
from shared.scopes import ScopeSyntaxError, format_scope, parse_scope

CLIENT_TYPES = ("confidential", "public")
MAX_REDIRECT_URIS = 10
# RFC 3986 §2: the characters a URI may contain (anything else must be percent-encoded).
_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
# A deleted client stays in the revoked-client feed this long past its last token's `exp`:
# resource servers accept a token up to their clock-skew leeway after it (RS_LEEWAY <= 300).
REVOKED_CLIENT_LEEWAY = timedelta(seconds=300)


class RegistrationError(ValueError):
    """A registration value that is not acceptable; `field` names it for forms and RFC 7591."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_redirect_uri(uri: str) -> str:
    """Absolute, https (or http on loopback only), no fragment (RFC 6749 §3.1.2), no
    userinfo (RFC 3986 §3.2.1; RFC 9700 §4.1 on lookalike redirect URIs)."""
    uri = uri.strip()
    if not uri or len(uri) > 2000 or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in uri):
        raise RegistrationError(
            "Redirect URIs must be non-empty URLs without spaces.", field="redirect_uris"
        )
    if not _URI_CHARACTERS.fullmatch(uri):
        raise RegistrationError(
            "Redirect URIs must be ASCII URLs; percent-encode other characters.",
            field="redirect_uris",
        )
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
    except ValueError:
        raise RegistrationError(f"Not a valid URL: {uri[:100]}", field="redirect_uris") from None
    if parts.fragment or "#" in uri:
        raise RegistrationError("Redirect URIs must not contain a fragment.", field="redirect_uris")
    if "@" in parts.netloc:  # `https://trusted.example@evil.example/` goes to evil.example
        raise RegistrationError(
            "Redirect URIs must not contain a user name or password (user@host).",
            field="redirect_uris",
        )
    if parts.scheme == "https" and host:
        return uri
    if parts.scheme == "http" and _is_loopback(host):
        return uri
    raise RegistrationError(
        "Redirect URIs must use https (http is allowed only on localhost or 127.0.0.1).",
        field="redirect_uris",
    )


def validate_website(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise RegistrationError("The website must be an http(s) URL.", field="website") from None
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise RegistrationError("The website must be an http(s) URL.", field="website")
    if "@" in parts.netloc:
        raise RegistrationError(
            "The website must not contain a user name or password (user@host).", field="website"
        )
    return url


def normalize_redirect_uris(uris: Iterable[str], *, required: bool) -> list[str]:
    result: list[str] = []
    for uri in uris:
        if uri.strip():
            checked = validate_redirect_uri(uri)
            if checked not in result:
                result.append(checked)
    if len(result) > MAX_REDIRECT_URIS:
        raise RegistrationError(
            f"At most {MAX_REDIRECT_URIS} redirect URIs.", field="redirect_uris"
        )
    if required and not result:
        raise RegistrationError(
            "At least one redirect URI is needed for the code and implicit grants.",
            field="redirect_uris",
        )
    return result


def check_grant_types(grant_types: Iterable[str], *, client_type: str, trusted: bool) -> list[str]:
    chosen = list(dict.fromkeys(grant_types))
    unknown = [g for g in chosen if g not in GRANT_TYPES]
    if unknown:
        raise RegistrationError(f"Unknown grant type: {unknown[0][:50]}", field="grant_types")
    if not chosen:
        raise RegistrationError("Choose at least one grant type.", field="grant_types")
    grants = [GRANTS[name] for name in chosen]
    for grant in grants:
        if client_type == "public" and grant.confidential_only:
            raise RegistrationError(
                f"Public clients cannot use {grant.grant_type}: they hold no secret.",
                field="grant_types",
            )
    for grant in grants:
        if grant.trusted_only and not trusted:
            raise RegistrationError(
                f"The {grant.grant_type} grant is only for trusted (first-party) clients.",
                field="grant_types",
            )
    return chosen


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise RegistrationError(
            "The application name is required (at most 100 characters).", field="client_name"
        )
    return name


def check_description(description: str) -> str:
    description = description.strip()
    if len(description) > 1000:
        raise RegistrationError(
            "The description must have at most 1000 characters.", field="description"
        )
    return description


def check_scope(scope: str, *, supported: Iterable[str]) -> str:
    try:
        scopes = parse_scope(scope)
    except ScopeSyntaxError:
        raise RegistrationError("Scope must be space-separated names.", field="scope") from None
    unknown = scopes - set(supported)
    if unknown or not scopes:
        raise RegistrationError(f"Supported scopes: {format_scope(supported)}", field="scope")
    return format_scope(scopes)


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


def rotate_secret(session: Session, client: Client) -> str:
    """A new secret for a confidential client; the old one stops working at once."""
    if client.is_public:
        raise RegistrationError("Public clients have no secret to rotate.", field="client_type")
    secret = new_token()
    client.client_secret_hash = hash_token(secret)
    client.updated_at = utcnow()
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
