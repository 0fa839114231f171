"""The ID token of the authorization code flow (OpenID Connect Core 1.0 §3.1.3.3).

Hooks in the code grant: `code_columns` stores what the ID token will repeat (`nonce`,
when and in which session the user logged in) with the code; the exchange returns them
(`CodeLogin`), and `with_id_token` adds the ID token of an `openid` code to the token
response.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.oidc.claims import ClaimsSubject, is_openid
from services.authorization_server.oidc.id_token import IdTokenIssuer

if TYPE_CHECKING:  # authorize.py reads the grant registry: imported for typing only
    from services.authorization_server.authorize import AuthorizationRequest


def code_columns(request: "AuthorizationRequest") -> dict[str, Any]:
    """The `AuthorizationCode` columns of an `openid` request (none for OAuth only)."""
    oidc = request.oidc
    if oidc is None:
        return {}
    login = oidc.login
    return {
        "nonce": oidc.nonce,
        "auth_time": login.auth_time if login else None,
        "sid": login.sid if login else None,
    }


@dataclass(frozen=True)
class CodeLogin:
    """What the code remembers of the login its ID token describes (`code_columns`)."""

    nonce: str | None
    auth_time: datetime | None
    sid: str | None


def with_id_token(
    body: dict[str, Any],
    *,
    id_tokens: IdTokenIssuer,
    user: ClaimsSubject,
    client: RegisteredClient,
    scope: str,
    login: CodeLogin,
) -> dict[str, Any]:
    """The token response, with the `id_token` of an `openid` code."""
    if not is_openid(scope):
        return body
    body["id_token"] = id_tokens.issue(
        user=user,
        client_id=client.client_id,
        algorithm=client.id_token_signed_response_alg,
        scope=scope,
        auth_time=login.auth_time,
        nonce=login.nonce,
        sid=login.sid,
        access_token=body["access_token"],
    )
    return body
