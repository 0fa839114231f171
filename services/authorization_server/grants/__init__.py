"""Grant types by `grant_type` value: dispatch is a dictionary lookup, not an if/elif chain."""

from services.authorization_server.grants.authorization_code import AuthorizationCodeGrant
from services.authorization_server.grants.base import Grant, GrantContext
from services.authorization_server.grants.client_credentials import ClientCredentialsGrant
from services.authorization_server.grants.password import PasswordGrant
from services.authorization_server.grants.refresh_token import RefreshTokenGrant
from shared.errors import InvalidRequestError, UnsupportedGrantTypeError

GRANTS: dict[str, type[Grant]] = {
    grant.grant_type: grant
    for grant in (
        AuthorizationCodeGrant,
        RefreshTokenGrant,
        ClientCredentialsGrant,
        PasswordGrant,
    )
}


def build_grants(context: GrantContext) -> dict[str, Grant]:
    return {name: grant(context) for name, grant in GRANTS.items()}


def get_grant(grants: dict[str, Grant], grant_type: str | None) -> Grant:
    if grant_type is None:
        raise InvalidRequestError("missing parameter: grant_type")
    grant = grants.get(grant_type)
    if grant is None:
        raise UnsupportedGrantTypeError(f"grant_type {grant_type[:40]!r} is not supported")
    return grant


__all__ = ["GRANTS", "Grant", "GrantContext", "build_grants", "get_grant"]
