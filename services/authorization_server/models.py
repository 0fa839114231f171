"""Database tables of the authorization server. Tables never leave through a route."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, utcnow

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""A cut-off that refuses nothing: every token's `iat` is after it."""


def _when(**kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


def _expiry() -> Any:
    """Indexed: the maintenance loop deletes by it (`repository.purge_expired`)."""
    return _when(nullable=False, index=True)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class User(SQLModel, table=True):
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True)
    email: str = Field(unique=True, index=True, max_length=254)
    name: str = Field(default="", max_length=100)
    password_hash: str
    created_at: datetime = _created()
    updated_at: datetime = _created()
    """When the profile (name, email) last changed: the OpenID Connect `updated_at` claim."""


class PendingSignup(SQLModel, table=True):
    """A sign-up waiting for its email to be confirmed: the account exists only once the
    link is followed, so an unconfirmed sign-up can neither log in nor block the address
    for its real owner. The link carries the token, the table only its digest."""

    token_hash: str = Field(primary_key=True)
    email: str = Field(index=True, max_length=254)
    name: str = Field(default="", max_length=100)
    password_hash: str
    created_at: datetime = _created()
    expires_at: datetime = _expiry()


class UserSession(SQLModel, table=True):
    """A login session; the cookie carries the token, the table only its digest.

    `created_at` is when the user authenticated (the ID token's `auth_time`): every login
    starts a new session. `sid` names the session in ID tokens (RP-initiated logout);
    it is not the token, which never leaves the cookie."""

    token_hash: str = Field(primary_key=True)
    user_id: str = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = _created()
    expires_at: datetime = _expiry()
    sid: str | None = Field(default_factory=lambda: str(uuid.uuid4()), index=True)


class Client(SQLModel, table=True):
    client_id: str = Field(primary_key=True)
    client_secret_hash: str | None = None
    name: str = Field(max_length=100)
    website: str = Field(default="", max_length=2000)
    description: str = Field(default="", max_length=1000)
    redirect_uris: list[str] = _json_list()
    grant_types: list[str] = _json_list()
    scope: str = "read write"
    client_type: str = "confidential"
    trusted: bool = False
    owner_id: str | None = Field(default=None, foreign_key="user.id", index=True)
    created_at: datetime = _created()
    updated_at: datetime = _created()
    # OpenID Connect Dynamic Client Registration 1.0 §2 metadata (oidc/client_metadata.py).
    id_token_signed_response_alg: str = Field(default="RS256", max_length=10)
    userinfo_signed_response_alg: str | None = Field(default=None, max_length=10)
    post_logout_redirect_uris: list[str] = _json_list()
    subject_type: str = Field(default="public", max_length=10)
    default_max_age: int | None = None
    require_auth_time: bool = False
    client_credentials_revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    """Set when the secret is rotated: the moment no replica accepts the old secret any
    more. The client-credentials tokens issued until then are revoked (`RevokedClient`
    carries the same cut-off to the feed), and the grant issues none before it passes."""

    @property
    def is_public(self) -> bool:
        return self.client_type == "public"


class Consent(SQLModel, table=True):
    """What a user has approved for a client, per response type: a repeat request within it
    skips the screen. Approving `code` never approves `token` (implicit), which puts the
    access token in the browser, so each is asked and remembered on its own."""

    __table_args__ = (UniqueConstraint("user_id", "client_id", "response_type"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="user.id", ondelete="CASCADE")
    client_id: str = Field(foreign_key="client.client_id", ondelete="CASCADE", index=True)
    response_type: str = Field(max_length=20)
    scope: str
    redirect_uris: list[str] = _json_list()
    """The redirect URIs the user approved sending the response to; one added to the client
    later is asked about again, not covered by this consent."""
    created_at: datetime = _created()
    updated_at: datetime = _created()


class AuthorizationCode(SQLModel, table=True):
    # Withdrawing a consent deletes the unexchanged codes of a user and client.
    __table_args__ = (Index("ix_authorizationcode_client_id_user_id", "client_id", "user_id"),)
    code_hash: str = Field(primary_key=True)
    client_id: str = Field(foreign_key="client.client_id", ondelete="CASCADE")
    user_id: str = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    redirect_uri: str
    scope: str
    code_challenge: str | None = None
    expires_at: datetime = _expiry()
    consumed_at: datetime | None = _when(nullable=True)
    token_family_id: str | None = None
    # OpenID Connect: what the ID token of an `openid` code repeats (oidc/id_token.py).
    nonce: str | None = None
    auth_time: datetime | None = _when(nullable=True)
    sid: str | None = None


class TokenFamily(SQLModel, table=True):
    """Every token descending from one authorization: revoked together (RFC 9700 §4.14)."""

    # Revocation asks whether any of a user's families with the client is still live.
    __table_args__ = (Index("ix_tokenfamily_user_id_client_id", "user_id", "client_id"),)
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True)
    client_id: str = Field(foreign_key="client.client_id", ondelete="CASCADE", index=True)
    user_id: str | None = Field(default=None, foreign_key="user.id", index=True)
    scope: str
    origin: str
    created_at: datetime = _created()
    revoked_at: datetime | None = _when(nullable=True)


class RefreshToken(SQLModel, table=True):
    token_hash: str = Field(primary_key=True)
    family_id: str = Field(foreign_key="tokenfamily.id", index=True, ondelete="CASCADE")
    client_id: str
    scope: str
    created_at: datetime = _created()
    expires_at: datetime = _expiry()
    rotated_at: datetime | None = _when(nullable=True)


class IssuedAccessToken(SQLModel, table=True):
    """The `jti` of each user access token, so that revoking a family reaches its JWTs."""

    jti: str = Field(primary_key=True)
    family_id: str = Field(foreign_key="tokenfamily.id", index=True, ondelete="CASCADE")
    expires_at: datetime = _expiry()


class RevokedAccessToken(SQLModel, table=True):
    """Revoked JWTs not yet expired: introspection and the resource servers' feed read it."""

    __table_args__ = (Index("ix_revokedaccesstoken_revoked_at", "revoked_at"),)
    jti: str = Field(primary_key=True)
    expires_at: datetime = _expiry()
    revoked_at: datetime = _created()


class RevokedClient(SQLModel, table=True):
    """A deleted client, or one whose secret was rotated. Its access tokens issued at or
    before `revoked_at` are refused (introspection, the resource servers' feed) until
    `expires_at`, when the last has expired.

    Client-credentials tokens are recorded nowhere (the token endpoint writes nothing), so
    this row is what reaches them; it needs no foreign key, the client row is gone.
    """

    client_id: str = Field(primary_key=True)
    revoked_at: datetime = _when(nullable=False)
    expires_at: datetime = _expiry()
    client_credentials_revoked_at: datetime = Field(
        default=EPOCH, sa_column=Column(UTCDateTime(), nullable=False)
    )
    """A rotated secret: the client's own client-credentials tokens (`sub` = `client_id`)
    issued at or before it are refused too; its users' tokens are not. A client that was only
    rotated, never deleted, has `revoked_at` = EPOCH."""


class SigningKeyRecord(SQLModel, table=True):
    """A signing key. It signs from `active_from` until a newer key's `active_from`."""

    kid: str = Field(primary_key=True)
    algorithm: str
    private_key: str
    """Base64 of AES-GCM nonce + ciphertext of the PKCS#8 PEM; the PEM itself when no KEK."""
    kek_id: str | None = None
    """The key encryption key that sealed `private_key` (see key_encryption.py); None: clear."""
    created_at: datetime = _created()
    active_from: datetime = _when(nullable=False)


TABLES = (
    User,
    PendingSignup,
    UserSession,
    Client,
    Consent,
    AuthorizationCode,
    TokenFamily,
    RefreshToken,
    IssuedAccessToken,
    RevokedAccessToken,
    RevokedClient,
    SigningKeyRecord,
)
