"""The ID token of the authorization code flow (OpenID Connect Core 1.0 §3.1.3.3).

Two small hooks in the code grant: `code_columns` stores what the ID token will repeat
(`nonce`, when and in which session the user logged in) with the code; `add_id_token`
adds the ID token to the token response of an `openid` code.
"""

from typing import TYPE_CHECKING, Any

from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.models import AuthorizationCode, User
from services.authorization_server.oidc.claims import is_openid
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


def add_id_token(
    body: dict[str, Any],
    *,
    id_tokens: IdTokenIssuer,
    code: AuthorizationCode,
    user: User,
    client: RegisteredClient,
) -> dict[str, Any]:
    """The token response, with `id_token` when the code was issued for `openid`."""
    if is_openid(code.scope):
        body["id_token"] = id_tokens.issue(
            user=user,
            client_id=client.client_id,
            algorithm=client.id_token_signed_response_alg,
            scope=code.scope,
            auth_time=code.auth_time,
            nonce=code.nonce,
            sid=code.sid,
            access_token=body["access_token"],
        )
    return body
