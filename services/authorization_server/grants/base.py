"""The grant interface: each grant type is one module with one class (RFC 6749 §4, §6).

A grant owns both endpoints it appears at: the authorization endpoint through its
`response_type` (`respond`), the token endpoint through its `grant_type` (`validate`,
then `issue`, a coroutine: its storage is `token_store` on the async engine, and only
password hashing leaves the event loop). Everything that lists grant or response types
derives from the classes' declarations (`grants/__init__.py`).
"""

import uuid
from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Session

from services.authorization_server import token_store
from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.models import User
from services.authorization_server.oidc.id_token import IdTokenIssuer
from services.authorization_server.passwords import PasswordHasher
from services.authorization_server.resources import Resources, known_resources
from services.authorization_server.settings import Settings
from services.authorization_server.throttle import Throttle
from services.authorization_server.tokens import (
    AccessTokenIssuer,
    AccessTokenStamp,
    UserIdentity,
    token_response,
)
from shared.crypto import hash_token, new_token
from shared.errors import (
    InvalidRequestError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
)

if TYPE_CHECKING:  # authorize.py reads the registry: imported for typing only
    from services.authorization_server.authorize import AuthorizationRequest

SCOPE_PARAMETER: dict[str, Any] = {"type": "string", "examples": ["read write"]}


@dataclass(frozen=True)
class GrantContext:
    db: AsyncEngine
    """The request paths' engine: token requests run on the event loop."""
    tokens: AccessTokenIssuer
    passwords: PasswordHasher
    settings: Settings
    id_tokens: IdTokenIssuer
    throttle: Throttle


@dataclass(frozen=True)
class TokenRequest:
    """A token request `validate` accepted: what `issue` works from."""

    form: Mapping[str, str]
    client: RegisteredClient
    audience: str


@dataclass(frozen=True, slots=True)
class NewFamily:
    """The rows of a new grant: its family, its refresh token (if the client may refresh)
    and its access token's record."""

    family: token_store.Row
    refresh: token_store.Row | None
    access: token_store.Row


class Grant(ABC):
    grant_type: ClassVar[str]
    """Its `grant_type` value, also its name in client metadata (RFC 7591 §2)."""
    token_endpoint: ClassVar[bool] = True
    """Whether the token endpoint accepts it (implicit is answered at /authorize only)."""
    parameters: ClassVar[dict[str, dict[str, Any]]] = {}
    """Its own token-request form fields, as OpenAPI schemas (the endpoint adds the common ones)."""
    required: ClassVar[tuple[str, ...]] = ()
    note: ClassVar[str] = ""
    """What a developer should know, after its name in the token endpoint's documentation."""
    response_type: ClassVar[str | None] = None
    """Its `response_type` at the authorization endpoint, if it has one (RFC 6749 §3.1.1)."""
    response_mode: ClassVar[Literal["query", "fragment"]] = "query"
    pkce: ClassVar[bool] = False
    """Its authorization requests carry a PKCE challenge (RFC 7636)."""
    confidential_only: ClassVar[bool] = False
    """Only for clients that hold a secret."""
    trusted_only: ClassVar[bool] = False
    """Only for the operator's trusted (first-party) clients."""
    for_user: ClassVar[bool] = True
    """Its tokens act for a user, so they may only be for resources that serve users."""

    def __init__(self, context: GrantContext) -> None:
        self.context = context
        settings = context.settings
        self.resources: Resources = known_resources(
            settings.resource_audience, settings.apps_api_resource
        )

    async def exchange(self, form: Mapping[str, str], client: RegisteredClient) -> dict[str, Any]:
        """The token endpoint's work: validate the request, then issue the tokens."""
        return await self.issue(self.validate(form, client))

    def validate(self, form: Mapping[str, str], client: RegisteredClient) -> TokenRequest:
        """Check the request against this grant and the client, without side effects."""
        if self.grant_type not in client.grant_types:
            raise UnauthorizedClientError(f"client may not use the {self.grant_type} grant")
        missing = [name for name in self.required if name not in form]
        if missing:
            raise InvalidRequestError(f"missing parameter: {missing[0]}")
        # RFC 8707 §2.2: checked before the grant is used, so a refused target consumes nothing.
        audience = self.resources.audience(form.get("resource"), for_user=self.for_user)
        if self.confidential_only and client.is_public:
            raise UnauthorizedClientError(f"public clients may not use {self.grant_type}")
        if self.trusted_only and not client.trusted:
            raise UnauthorizedClientError(
                f"the {self.grant_type} grant is only for trusted clients"
            )
        return TokenRequest(form, client, audience)

    async def issue(self, request: TokenRequest) -> dict[str, Any]:
        """The token response body (RFC 6749 §5.1) for a validated request."""
        raise UnsupportedGrantTypeError(f"grant_type {self.grant_type!r} is not supported")

    def respond(
        self, session: Session, *, user: User, request: "AuthorizationRequest"
    ) -> dict[str, str]:
        """The parameters of the approved authorization response (RFC 6749 §4.1.2, §4.2.2)."""
        raise UnsupportedResponseTypeError(f"{self.grant_type} has no response_type")

    def refresh_row(self, refresh_token: str, *, client_id: str, now: datetime) -> dict[str, Any]:
        """The stored form of a new refresh token (its digest), but for its family and scope,
        which a rotation takes from the token it replaces (`token_store`)."""
        return {
            "token_hash": hash_token(refresh_token),
            "client_id": client_id,
            "created_at": now,
            "expires_at": now + timedelta(seconds=self.context.settings.refresh_token_ttl),
        }

    def mint_for_user(
        self,
        *,
        family_id: str,
        user: UserIdentity,
        client_id: str,
        scope: str,
        audience: str,
        refresh_token: str | None,
        stamp: AccessTokenStamp | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The token response, with a fresh access token beside `refresh_token` (or None),
        and the access token's record in its family (so that revocation reaches it)."""
        access = self.context.tokens.issue_for_user(
            user=user, client_id=client_id, scope=scope, audience=audience, stamp=stamp
        )
        record = {"jti": access.jti, "family_id": family_id, "expires_at": access.expires_at}
        body = token_response(access, scope=scope, refresh_token=refresh_token, user=user)
        return body, record

    def new_family(
        self,
        *,
        user: UserIdentity,
        client: RegisteredClient,
        scope: str,
        now: datetime,
        audience: str,
    ) -> tuple[dict[str, Any], NewFamily]:
        """A new grant (token family) for the user and its first tokens: the response, and
        the rows that store them."""
        family_id = str(uuid.uuid4())
        family = {
            "id": family_id,
            "client_id": client.client_id,
            "user_id": user.id,
            "scope": scope,
            "origin": self.grant_type,
            "created_at": now,
        }
        refresh, refresh_row = None, None
        if "refresh_token" in client.grant_types:
            refresh = new_token()
            refresh_row = {
                **self.refresh_row(refresh, client_id=client.client_id, now=now),
                "family_id": family_id,
                "scope": scope,
            }
        body, access = self.mint_for_user(
            family_id=family_id,
            user=user,
            client_id=client.client_id,
            scope=scope,
            audience=audience,
            refresh_token=refresh,
        )
        return body, NewFamily(family, refresh_row, access)

    async def start_family(
        self,
        conn: token_store.Connection,
        *,
        user: UserIdentity,
        client: RegisteredClient,
        scope: str,
        now: datetime,
        audience: str,
    ) -> dict[str, Any]:
        """`new_family`, inserted in one statement; not committed. Its tokens' response."""
        body, rows = self.new_family(
            user=user, client=client, scope=scope, now=now, audience=audience
        )
        await token_store.add_tokens(
            conn, family=rows.family, refresh=rows.refresh, access=rows.access
        )
        return body
