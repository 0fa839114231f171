"""Client credentials grant, RFC 6749 §4.4: the client acts on its own account."""

from collections.abc import Mapping
from typing import Any

from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.grants.base import Grant
from services.authorization_server.scopes import resolve_scope
from services.authorization_server.tokens import token_response
from shared.errors import UnauthorizedClientError


class ClientCredentialsGrant(Grant):
    grant_type = "client_credentials"
    blocking = False  # signs one JWT and writes nothing: stays on the event loop
    for_user = False  # so it alone may name this server's own API as its resource

    def issue(
        self, form: Mapping[str, str], client: RegisteredClient, audience: str
    ) -> dict[str, Any]:
        if client.is_public:
            raise UnauthorizedClientError("public clients may not use client_credentials")
        settings = self.context.settings
        scope = resolve_scope(
            form.get("scope"), client=client, supported=settings.scopes, default=client.scope
        )
        access = self.context.tokens.issue(
            subject=client.client_id, client_id=client.client_id, scope=scope, audience=audience
        )
        return token_response(access, scope=scope)
