"""Client credentials grant, RFC 6749 §4.4: the client acts on its own account.

It signs one JWT and writes nothing (deleted clients are reached by `RevokedClient`).
"""

from typing import Any

from services.authorization_server.grants.base import SCOPE_PARAMETER, Grant, TokenRequest
from services.authorization_server.scopes import resolve_scope
from services.authorization_server.tokens import token_response


class ClientCredentialsGrant(Grant):
    grant_type = "client_credentials"
    parameters = {"scope": SCOPE_PARAMETER}  # noqa: RUF012 (read-only declaration)
    confidential_only = True  # a public client holds no credentials to present
    for_user = False  # so it alone may name this server's own API as its resource

    async def issue(self, request: TokenRequest) -> dict[str, Any]:
        form, client, audience = request.form, request.client, request.audience
        settings = self.context.settings
        scope = resolve_scope(
            form.get("scope"), client=client, supported=settings.scopes, default=client.scope
        )
        access = self.context.tokens.issue(
            subject=client.client_id, client_id=client.client_id, scope=scope, audience=audience
        )
        return token_response(access, scope=scope)
