"""The UserInfo endpoint's decision (OpenID Connect Core 1.0 §5.3; errors RFC 6750 §3.1).

Any access token of this server that carries `openid` is accepted, whatever its resource
audience: the scope, not the audience, is what the user consented to. An expired, forged,
revoked token, or one of a deleted client, is `invalid_token` (401); a token without
`openid` is `insufficient_scope` (403).
"""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.keys import KeyStore
from services.authorization_server.oidc.claims import OPENID, is_openid, user_claims
from services.authorization_server.oidc.id_token import IdTokenIssuer
from services.authorization_server.tokens import read_access_token
from shared.errors import InsufficientScopeError, InvalidTokenError
from shared.scopes import ScopeSyntaxError


@dataclass(frozen=True)
class UserInfoResponse:
    """JSON claims, or (when the client registered `userinfo_signed_response_alg`) a JWT."""

    claims: dict[str, Any]
    jwt: str | None = None


def userinfo(
    token: str, *, session: Session, keys: KeyStore, id_tokens: IdTokenIssuer
) -> UserInfoResponse:
    claims = read_access_token(token, keys=keys, issuer=id_tokens.issuer)
    if claims is None:
        raise InvalidTokenError("access token invalid or expired")
    client_id, scope = str(claims.get("client_id")), claims.get("scope")
    if repository.is_access_token_revoked(
        session=session, jti=str(claims.get("jti"))
    ) or repository.is_client_revoked(
        session=session,
        client_id=client_id,
        issued_at=int(claims["iat"]),
        client_token=claims.get("sub") == client_id,
    ):
        raise InvalidTokenError("access token revoked")
    try:
        openid = isinstance(scope, str) and is_openid(scope)
    except ScopeSyntaxError:
        raise InvalidTokenError("access token scope malformed") from None
    if not openid:
        raise InsufficientScopeError("the access token needs the openid scope", scope=OPENID)
    user = repository.get_user(session=session, user_id=str(claims.get("sub")))
    if user is None:
        raise InvalidTokenError("the user of this token no longer exists")
    body = user_claims(user, str(scope))
    client = repository.get_client(session=session, client_id=client_id)
    algorithm = client.userinfo_signed_response_alg if client is not None else None
    if algorithm is None:
        return UserInfoResponse(body)
    # Core §5.3.2: a signed response carries `iss` and `aud` too.
    signed = {**body, "iss": id_tokens.issuer, "aud": client_id}
    return UserInfoResponse(body, id_tokens.sign(signed, algorithm=algorithm))
