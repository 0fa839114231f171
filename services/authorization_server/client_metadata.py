"""Client metadata over JSON: RFC 7591 dynamic registration, and `/v1/apps/self`.

Both share the portal's rules (`client_rules.py`); here they are mapped to the RFC 7591
§3.2.2 errors and to RFC 6750 bearer authentication.
"""

import hmac
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.grants import RESPONSE_TYPES
from services.authorization_server.models import Client
from services.authorization_server.oidc.claims import scope_labels
from services.authorization_server.oidc.client_metadata import (
    OidcClientMetadata,
    check_oidc_metadata,
)
from services.authorization_server.registration import (
    RegistrationError,
    register_client,
    update_client,
)
from services.authorization_server.schemas import (
    AppRegistration,
    AppSelfUpdate,
    ClientRegistrationRequest,
)
from services.authorization_server.settings import Settings
from services.authorization_server.tokens import read_access_token
from shared.errors import (
    AccessDeniedError,
    InvalidClientMetadataError,
    InvalidRedirectUriError,
    InvalidTokenError,
    MissingTokenError,
    OAuthError,
)
from shared.scopes import ScopeSyntaxError, format_scope, parse_scope

# RFC 7591 §2.1: each redirecting grant goes with one response type.
GRANT_OF_RESPONSE_TYPE = {name: grant.grant_type for name, grant in RESPONSE_TYPES.items()}
RESPONSE_TYPE_OF_GRANT = {value: key for key, value in GRANT_OF_RESPONSE_TYPE.items()}
_RESPONSE_TYPES_SUPPORTED = "response_types supported: " + ", ".join(RESPONSE_TYPES)
_RESPONSE_TYPES_MATCH = "response_types must match grant_types: " + ", ".join(
    f"{name} for {grant}" for name, grant in GRANT_OF_RESPONSE_TYPE.items()
)
CLIENT_TYPE_OF_AUTH_METHOD = {
    "client_secret_basic": "confidential",
    "client_secret_post": "confidential",
    "none": "public",
}
DEFAULT_CLIENT_NAME = "Unnamed application"
_Model = TypeVar("_Model", bound=BaseModel)


def public_text(text: str) -> str:
    """RFC 6749 §5.2 allows only printable ASCII minus quote and backslash in descriptions."""
    return "".join(ch if " " <= ch <= "~" and ch not in '"\\' else "?" for ch in text)[:200]


def metadata_error(exc: RegistrationError) -> OAuthError:
    """The RFC 7591 §3.2.2 error for a refused value."""
    if exc.field == "redirect_uris":
        return InvalidRedirectUriError(public_text(str(exc)))
    return InvalidClientMetadataError(public_text(str(exc)))


def _parse(model: type[_Model], body: dict[str, Any]) -> _Model:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "body"
        message = public_text(f"{field}: {first['msg']}")
        if field == "redirect_uris":
            raise InvalidRedirectUriError(message) from None
        raise InvalidClientMetadataError(message) from None


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer` header (RFC 6750 §2.1)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        raise MissingTokenError()
    token = token.strip()
    if not token or " " in token:
        raise InvalidTokenError("malformed bearer token")
    return token


_REGISTRATION_HELP = "see the README, section Walk the tutorial with curl"
REGISTRATION_DISABLED = (
    "dynamic client registration is disabled on this server: its operator enables it with"
    f" AS_REGISTRATION_ACCESS_TOKEN or AS_OPEN_REGISTRATION ({_REGISTRATION_HELP})"
)
INITIAL_ACCESS_TOKEN_MISSING = (
    "registration needs an initial access token: send Authorization: Bearer <the server's"
    f" AS_REGISTRATION_ACCESS_TOKEN> ({_REGISTRATION_HELP})"
)
INITIAL_ACCESS_TOKEN_WRONG = (
    "initial access token invalid: it must be the server's AS_REGISTRATION_ACCESS_TOKEN"
    f" ({_REGISTRATION_HELP})"
)


def check_initial_access_token(authorization: str | None, settings: Settings) -> bool:
    """RFC 7591 §3: registration needs the initial access token unless it is open. Whether
    the request carries that token (open registration accepts a request without it).

    Unlike a resource server's bare challenge (RFC 6750 §3.1), a request without the token
    is told what to send and where the setting is: its caller is a developer setting up.
    """
    expected = settings.registration_access_token
    if settings.open_registration:
        scheme, _, token = (authorization or "").partition(" ")
        return (
            expected is not None
            and scheme.lower() == "bearer"
            and hmac.compare_digest(token.strip().encode(), expected.get_secret_value().encode())
        )
    if expected is None:
        raise AccessDeniedError(REGISTRATION_DISABLED)
    if authorization is None or authorization.partition(" ")[0].lower() != "bearer":
        raise InvalidTokenError(INITIAL_ACCESS_TOKEN_MISSING)
    token = bearer_token(authorization)
    if not hmac.compare_digest(token.encode(), expected.get_secret_value().encode()):
        raise InvalidTokenError(INITIAL_ACCESS_TOKEN_WRONG)
    return True


def _grant_and_response_types(
    grant_types: list[str] | None, response_types: list[str] | None
) -> tuple[list[str], list[str]]:
    """RFC 7591 §2.1: defaults, and response types that match the grant types."""
    unknown = [value for value in response_types or () if value not in GRANT_OF_RESPONSE_TYPE]
    if unknown:
        raise InvalidClientMetadataError(_RESPONSE_TYPES_SUPPORTED)
    if grant_types is None:
        responses = response_types if response_types is not None else ["code"]
        grant_types = [GRANT_OF_RESPONSE_TYPE[value] for value in dict.fromkeys(responses)]
    expected = [
        RESPONSE_TYPE_OF_GRANT[g] for g in dict.fromkeys(grant_types) if g in RESPONSE_TYPE_OF_GRANT
    ]
    if response_types is not None and set(response_types) != set(expected):
        raise InvalidClientMetadataError(_RESPONSE_TYPES_MATCH)
    return grant_types, expected


def register(session: Session, body: dict[str, Any], *, settings: Settings) -> dict[str, Any]:
    """Register a client from RFC 7591 metadata; the §3.2.1 response body.

    Never trusted: the password grant stays for clients the operator registers.
    """
    metadata = _parse(ClientRegistrationRequest, body)
    grant_types, response_types = _grant_and_response_types(
        metadata.grant_types, metadata.response_types
    )
    method = metadata.token_endpoint_auth_method or "client_secret_basic"
    client_type = CLIENT_TYPE_OF_AUTH_METHOD.get(method)
    if client_type is None:
        raise InvalidClientMetadataError(
            "token_endpoint_auth_method supported: " + ", ".join(CLIENT_TYPE_OF_AUTH_METHOD)
        )
    try:
        oidc = check_oidc_metadata(
            id_token_signed_response_alg=metadata.id_token_signed_response_alg,
            userinfo_signed_response_alg=metadata.userinfo_signed_response_alg,
            post_logout_redirect_uris=metadata.post_logout_redirect_uris,
            subject_type=metadata.subject_type,
            default_max_age=metadata.default_max_age,
            require_auth_time=metadata.require_auth_time,
        )
        client, secret = register_client(
            session,
            name=DEFAULT_CLIENT_NAME if metadata.client_name is None else metadata.client_name,
            website=metadata.client_uri or "",
            redirect_uris=metadata.redirect_uris or (),
            client_type=client_type,
            grant_types=grant_types,
            scope=format_scope(settings.scopes) if metadata.scope is None else metadata.scope,
            # Every scope the metadata lists: OpenID Connect relying parties register with
            # `openid profile email` beside the API's scopes.
            supported_scopes=scope_labels(settings.scopes),
            trusted=False,
            oidc_columns=oidc.columns(),
        )
    except RegistrationError as exc:
        raise metadata_error(exc) from None
    response: dict[str, Any] = {"client_id": client.client_id}
    if secret is not None:
        response |= {"client_secret": secret, "client_secret_expires_at": 0}
    response |= {
        "client_id_issued_at": int(client.created_at.timestamp()),
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "grant_types": client.grant_types,
        "response_types": response_types,
        "token_endpoint_auth_method": method,
        "scope": client.scope,
    }
    response |= {k: v for k, v in OidcClientMetadata.of(client).columns().items() if v is not None}
    if client.website:
        response["client_uri"] = client.website
    return response


def app_registration(client: Client) -> AppRegistration:
    return AppRegistration(
        client_id=client.client_id,
        client_name=client.name,
        client_uri=client.website,
        description=client.description,
        redirect_uris=client.redirect_uris,
        grant_types=client.grant_types,
        scope=client.scope,
        client_type=client.client_type,
    )


def authenticate_app(
    context: ServerContext, session: Session, authorization: str | None
) -> tuple[Client, frozenset[str]]:
    """The client behind a client-credentials access token, and the token's scopes."""
    token = bearer_token(authorization)
    claims = read_access_token(token, keys=context.keys, issuer=context.settings.issuer)
    if claims is None:
        raise InvalidTokenError("access token invalid or expired")
    resource = context.settings.apps_api_resource
    if claims.get("aud") != resource:  # RFC 9068 §4: a token for another resource is refused
        raise InvalidTokenError(
            f"this API needs a client-credentials token requested with resource={resource}"
        )
    if repository.is_access_token_revoked(session=session, jti=str(claims.get("jti"))):
        raise InvalidTokenError("access token revoked")
    client_id = claims.get("client_id")
    if not isinstance(client_id, str) or claims.get("sub") != client_id:
        raise InvalidTokenError("a client-credentials access token is required")
    if repository.is_client_revoked(  # e.g. issued before the secret was rotated
        session=session, client_id=client_id, issued_at=int(claims["iat"]), client_token=True
    ):
        raise InvalidTokenError("access token revoked")
    client = repository.get_client(session=session, client_id=client_id)
    if client is None:
        raise InvalidTokenError("the client of this token no longer exists")
    try:
        return client, parse_scope(str(claims.get("scope", "")))
    except ScopeSyntaxError:
        raise InvalidTokenError("access token scope malformed") from None


def update_self(session: Session, client: Client, body: dict[str, Any]) -> Client:
    """Change the description and redirect URIs, by the rules of every registration."""
    update = _parse(AppSelfUpdate, body)
    try:
        return update_client(
            session, client, description=update.description, redirect_uris=update.redirect_uris
        )
    except RegistrationError as exc:
        raise metadata_error(exc) from None
