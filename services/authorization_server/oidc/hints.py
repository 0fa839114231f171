"""`id_token_hint`: an ID token this server issued, sent back by the client (Core 1.0
§3.1.2.1, RP-Initiated Logout 1.0 §2).

It must verify with one of our keys and name us as issuer; another issuer's token, a
forged or malformed one is refused with `invalid_request`. An expired hint is accepted
(the usual case at logout, long after login), within `HINT_MAX_AGE`.
"""

from typing import Any

from services.authorization_server.keys import KeyStore
from services.authorization_server.oidc.id_token import ID_TOKEN_TYP
from services.authorization_server.oidc.request import HintVerifier
from shared.errors import InvalidRequestError, InvalidTokenError
from shared.jwt import unverified_header, verify_jwt

HINT_MAX_AGE = 30 * 86400
_REQUIRED = ("iss", "sub", "aud", "iat", "exp")


def read_id_token_hint(
    hint: str, *, keys: KeyStore, issuer: str, client_id: str | None
) -> dict[str, Any]:
    """The claims of a hint we issued (to `client_id`, when given); InvalidRequestError."""
    try:
        kid = unverified_header(hint).get("kid")
        key = keys.verification_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidTokenError("signed by no key of this server")
        claims = verify_jwt(
            hint,
            key=key,
            issuer=issuer,
            audience=client_id,
            typ=ID_TOKEN_TYP.lower(),  # compared case-insensitively
            required_claims=_REQUIRED,
            leeway=HINT_MAX_AGE,
        )
    except InvalidTokenError as error:
        raise InvalidRequestError(
            "id_token_hint is not an ID token of this server", detail=error.description
        ) from None
    return claims


def hint_verifier(keys: KeyStore, issuer: str) -> HintVerifier:
    """For the authorization request: the hint's `sub`, for the requesting client."""

    def verify(hint: str, client_id: str) -> str:
        return str(read_id_token_hint(hint, keys=keys, issuer=issuer, client_id=client_id)["sub"])

    return verify
