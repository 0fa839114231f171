"""Client credentials grant, RFC 6749 §4.4: the client acts on its own account.

It signs one JWT and writes nothing (deleted clients, and the tokens of a rotated secret,
are reached by `RevokedClient`).
"""

import math
from typing import Any

from services.authorization_server.grants.base import SCOPE_PARAMETER, Grant, TokenRequest
from services.authorization_server.scopes import resolve_scope
from services.authorization_server.tokens import token_response
from shared.db import utcnow
from shared.errors import TemporarilyUnavailableError


class SecretRotationPendingError(TemporarilyUnavailableError):
    """The secret was rotated moments ago: tokens issued before the cut-off are revoked (the
    old secret may still pass on other replicas until then), so none is issued until it
    passes. The request is right and succeeds in a few seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "the client secret was just rotated; retry shortly", retry_after=retry_after
        )


class ClientCredentialsGrant(Grant):
    grant_type = "client_credentials"
    parameters = {"scope": SCOPE_PARAMETER}  # noqa: RUF012 (read-only declaration)
    confidential_only = True  # a public client holds no credentials to present
    for_user = False  # so it alone may name this server's own API as its resource

    async def issue(self, request: TokenRequest) -> dict[str, Any]:
        form, client, audience = request.form, request.client, request.audience
        settings = self.context.settings
        if client.client_credentials_revoked_at is not None:
            # `iat` has whole seconds, and a token at the cut-off's second is revoked.
            cutoff = int(client.client_credentials_revoked_at.timestamp())
            wait = cutoff + 1 - utcnow().timestamp()
            if wait > 0:
                raise SecretRotationPendingError(math.ceil(wait))
        scope = resolve_scope(
            form.get("scope"), client=client, supported=settings.scopes, default=client.scope
        )
        access = self.context.tokens.issue(
            subject=client.client_id, client_id=client.client_id, scope=scope, audience=audience
        )
        return token_response(access, scope=scope)
