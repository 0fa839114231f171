"""The grant registry: every list of grant or response types derives from it.

Keyed by `grant_type`, the name a client registers (RFC 7591 §2). Implicit is in the
registry under its RFC 7591 name `implicit` like the others, because clients register it,
the metadata lists it and consent is per grant; it declares `token_endpoint = False`, so
the token endpoint's lookup (`get_grant`) refuses it as it refuses an unknown value.
The authorization endpoint looks grants up by `response_type` (`RESPONSE_TYPES`).
"""

from typing import Any

from services.authorization_server.grants.authorization_code import AuthorizationCodeGrant
from services.authorization_server.grants.base import Grant, GrantContext, TokenRequest
from services.authorization_server.grants.client_credentials import ClientCredentialsGrant
from services.authorization_server.grants.implicit import ImplicitGrant
from services.authorization_server.grants.password import PasswordGrant
from services.authorization_server.grants.refresh_token import RefreshTokenGrant
from shared.errors import InvalidRequestError, UnsupportedGrantTypeError

# In the order the developer portal offers them.
GRANTS: dict[str, type[Grant]] = {
    grant.grant_type: grant
    for grant in (
        AuthorizationCodeGrant,
        ImplicitGrant,
        RefreshTokenGrant,
        ClientCredentialsGrant,
        PasswordGrant,
    )
}
GRANT_TYPES = tuple(GRANTS)
TOKEN_GRANT_TYPES = tuple(name for name, grant in GRANTS.items() if grant.token_endpoint)
# RFC 8414 `grant_types_supported`: the token endpoint's, then the response-type-only ones.
GRANT_TYPES_SUPPORTED = [
    *TOKEN_GRANT_TYPES,
    *(name for name in GRANT_TYPES if name not in TOKEN_GRANT_TYPES),
]
RESPONSE_TYPES: dict[str, type[Grant]] = {
    grant.response_type: grant for grant in GRANTS.values() if grant.response_type is not None
}
RESPONSE_MODES = list(dict.fromkeys(grant.response_mode for grant in RESPONSE_TYPES.values()))
# Grants that send the user agent back to the client, so they need a redirect URI.
REDIRECTING_GRANTS = frozenset(grant.grant_type for grant in RESPONSE_TYPES.values())


def token_parameters() -> dict[str, dict[str, Any]]:
    """The form fields the token endpoint's grants accept, as OpenAPI schemas."""
    fields: dict[str, dict[str, Any]] = {
        "grant_type": {"type": "string", "enum": list(TOKEN_GRANT_TYPES)}
    }
    for name in TOKEN_GRANT_TYPES:
        fields.update(GRANTS[name].parameters)
    return fields


def token_grants_text() -> str:
    """The token endpoint's grants for its documentation: "`a` (note), `b` and `c`"."""
    names = [f"`{name}`{GRANTS[name].note}" for name in TOKEN_GRANT_TYPES]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def build_grants(context: GrantContext) -> dict[str, Grant]:
    return {name: grant(context) for name, grant in GRANTS.items()}


def get_grant(grants: dict[str, Grant], grant_type: str | None) -> Grant:
    """The grant a token request names (RFC 6749 §5.2 `unsupported_grant_type`)."""
    if grant_type is None:
        raise InvalidRequestError("missing parameter: grant_type")
    grant = grants.get(grant_type)
    if grant is None or not grant.token_endpoint:
        raise UnsupportedGrantTypeError(f"grant_type {grant_type[:40]!r} is not supported")
    return grant


__all__ = [
    "GRANTS",
    "GRANT_TYPES",
    "GRANT_TYPES_SUPPORTED",
    "REDIRECTING_GRANTS",
    "RESPONSE_MODES",
    "RESPONSE_TYPES",
    "TOKEN_GRANT_TYPES",
    "Grant",
    "GrantContext",
    "TokenRequest",
    "build_grants",
    "get_grant",
    "token_grants_text",
    "token_parameters",
]
