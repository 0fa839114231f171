"""The grant interface: each grant type is one module with one class (RFC 6749 §4, §6)."""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.models import (
    IssuedAccessToken,
    RefreshToken,
    TokenFamily,
    User,
)
from services.authorization_server.passwords import PasswordHasher
from services.authorization_server.resources import Resources, known_resources
from services.authorization_server.settings import Settings
from services.authorization_server.tokens import AccessTokenIssuer, token_response
from shared.crypto import hash_token, new_token
from shared.errors import InvalidRequestError, UnauthorizedClientError


@dataclass(frozen=True)
class GrantContext:
    engine: Engine
    tokens: AccessTokenIssuer
    passwords: PasswordHasher
    settings: Settings


class Grant(ABC):
    grant_type: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = ()
    blocking: ClassVar[bool] = True
    """True when `exchange` does database or hashing work and must run off the event loop."""
    for_user: ClassVar[bool] = True
    """Its tokens act for a user, so they may only be for resources that serve users."""

    def __init__(self, context: GrantContext) -> None:
        self.context = context
        settings = context.settings
        self.resources: Resources = known_resources(
            settings.resource_audience, settings.apps_api_resource
        )

    def exchange(self, form: Mapping[str, str], client: RegisteredClient) -> dict[str, Any]:
        """Validate the request for this client and return the token response body."""
        if self.grant_type not in client.grant_types:
            raise UnauthorizedClientError(f"client may not use the {self.grant_type} grant")
        missing = [name for name in self.required if name not in form]
        if missing:
            raise InvalidRequestError(f"missing parameter: {missing[0]}")
        # RFC 8707 §2.2: checked before the grant is used, so a refused target consumes nothing.
        audience = self.resources.audience(form.get("resource"), for_user=self.for_user)
        return self.issue(form, client, audience)

    @abstractmethod
    def issue(
        self, form: Mapping[str, str], client: RegisteredClient, audience: str
    ) -> dict[str, Any]: ...

    def issue_for_user(
        self,
        session: Session,
        *,
        family: TokenFamily,
        user: User,
        client: RegisteredClient,
        scope: str,
        now: datetime,
        audience: str,
    ) -> dict[str, Any]:
        """Mint an access token (recorded in its family) and, if allowed, a refresh token."""
        access = self.context.tokens.issue_for_user(
            user=user, client_id=client.client_id, scope=scope, audience=audience
        )
        session.add(
            IssuedAccessToken(jti=access.jti, family_id=family.id, expires_at=access.expires_at)
        )
        refresh = None
        if "refresh_token" in client.grant_types:
            refresh = new_token()
            session.add(
                RefreshToken(
                    token_hash=hash_token(refresh),
                    family_id=family.id,
                    client_id=client.client_id,
                    scope=family.scope,
                    created_at=now,
                    expires_at=now + timedelta(seconds=self.context.settings.refresh_token_ttl),
                )
            )
        return token_response(access, scope=scope, refresh_token=refresh, user=user)
