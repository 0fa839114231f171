"""The authorization request, RFC 6749 §4.1.1 and §4.2.1, as an ordered list of checks.

Until the client and its redirect URI are verified, an error is shown to the user and
never redirected (RFC 6749 §4.1.2.1; no open redirector). After that, errors go back to
the client with `state` and `iss`.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.authorization_server import pkce
from services.authorization_server.grants import RESPONSE_TYPES
from services.authorization_server.models import Client
from services.authorization_server.oidc.claims import IDENTITY_SCOPES, scope_labels
from services.authorization_server.oidc.request import (
    OIDC_PARAMETERS,
    HintVerifier,
    OidcRequest,
    check_oidc_request,
)
from services.authorization_server.resources import known_resources
from services.authorization_server.scopes import resolve_scope
from services.authorization_server.settings import Settings
from shared.errors import (
    InvalidRequestError,
    OAuthError,
    UnauthorizedClientError,
    UnsupportedResponseTypeError,
)

AUTHORIZE_PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
    *OIDC_PARAMETERS,
)
_PRE_REDIRECT = ("client_id", "redirect_uri")
_MAX_PARAMETER_LENGTH = 2000
_RESPONSE_TYPE_CHOICES = " or ".join(RESPONSE_TYPES)


def uses_fragment(response_type: str | None) -> bool:
    """Whether responses to this `response_type` go in the fragment (RFC 6749 §4.2.2)."""
    grant = RESPONSE_TYPES.get(response_type or "")
    return grant is not None and grant.response_mode == "fragment"


@dataclass(frozen=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str
    redirect_uri_given: bool
    response_type: str
    scope: str
    state: str | None
    code_challenge: str | None
    oidc: OidcRequest | None = None
    """The OpenID Connect part of an `openid` request (oidc/request.py)."""

    @property
    def grant_type(self) -> str:
        return RESPONSE_TYPES[self.response_type].grant_type

    @property
    def uses_fragment(self) -> bool:
        return uses_fragment(self.response_type)

    def form_parameters(self) -> dict[str, str]:
        """The request as hidden fields of the consent form, to be checked again on submit."""
        values = {
            "response_type": self.response_type,
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri if self.redirect_uri_given else None,
            "scope": self.scope,
            "state": self.state,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256" if self.code_challenge else None,
            **(self.oidc.form_parameters() if self.oidc else {}),
        }
        return {name: value for name, value in values.items() if value is not None}


class AuthorizationRedirectError(Exception):
    """An error to report to the client at its verified redirect URI."""

    def __init__(self, error: OAuthError, *, redirect_uri: str, state: str | None, fragment: bool):
        super().__init__(error.error)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state
        self.fragment = fragment


def check_single_values(items: Sequence[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """RFC 6749 §3.1: no parameter twice; empty values count as omitted.

    Returns the parameters and the names sent more than once. A repeated `client_id` or
    `redirect_uri` is refused at once: the redirect target itself is in doubt.
    """
    params: dict[str, str] = {}
    repeated: list[str] = []
    for name, value in items:
        if name in params:
            if name in _PRE_REDIRECT:
                raise InvalidRequestError(f"parameter {name!r} repeated")
            repeated.append(name)
        params[name] = value
    return {name: value for name, value in params.items() if value != ""}, repeated


def check_client(params: Mapping[str, str], load_client: Callable[[str], Client | None]) -> Client:
    client_id = params.get("client_id")
    if client_id is None:
        raise InvalidRequestError("missing parameter: client_id")
    # NUL never names a client, and PostgreSQL refuses it even in a lookup.
    looks_valid = len(client_id) <= 200 and "\x00" not in client_id
    client = load_client(client_id) if looks_valid else None
    if client is None:
        # A page for the user, not a client authentication: 400, not 401 (RFC 6749 §4.1.2.1).
        raise InvalidRequestError("unknown client_id")
    return client


def check_redirect_uri(params: Mapping[str, str], client: Client) -> str:
    """Exact string match against a registered URI (RFC 9700 §4.1.3)."""
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None:
        if len(client.redirect_uris) == 1:
            return client.redirect_uris[0]
        if not client.redirect_uris:
            raise InvalidRequestError("the client has no redirect URI registered")
        raise InvalidRequestError("redirect_uri required: the client registered several")
    if redirect_uri not in client.redirect_uris:
        raise InvalidRequestError("redirect_uri does not match a registered redirect URI")
    return redirect_uri


def check_parameters(params: Mapping[str, str], repeated: Sequence[str]) -> None:
    if repeated:
        raise InvalidRequestError(f"parameter {repeated[0]!r} repeated")
    for name in AUTHORIZE_PARAMETERS:
        if len(params.get(name, "")) > _MAX_PARAMETER_LENGTH:
            raise InvalidRequestError(f"parameter {name!r} too long")


def check_response_type(params: Mapping[str, str], client: Client) -> str:
    response_type = params.get("response_type")
    if response_type is None:
        raise InvalidRequestError("missing parameter: response_type")
    grant = RESPONSE_TYPES.get(response_type)
    if grant is None:
        raise UnsupportedResponseTypeError(f"response_type must be {_RESPONSE_TYPE_CHOICES}")
    if grant.grant_type not in client.grant_types:
        raise UnauthorizedClientError(f"client may not use response_type={response_type}")
    return response_type


def check_scope(params: Mapping[str, str], client: Client, settings: Settings) -> str:
    """The OpenID Connect identity scopes are open to every client: the user decides."""
    return resolve_scope(
        params.get("scope"),
        client=client,
        supported=scope_labels(settings.scopes),
        default=settings.default_scope,
        open_to_all=IDENTITY_SCOPES,
    )


def check_resource(params: Mapping[str, str], settings: Settings) -> None:
    """RFC 8707 §2.1: a user's tokens may only be for the cloud API, the default audience."""
    resources = known_resources(settings.resource_audience, settings.apps_api_resource)
    resources.audience(params.get("resource"), for_user=True)


def check_pkce(params: Mapping[str, str], client: Client, response_type: str) -> str | None:
    challenge = params.get("code_challenge")
    if not RESPONSE_TYPES[response_type].pkce:
        return None
    pkce.check_challenge(challenge, params.get("code_challenge_method"))
    if challenge is None and client.is_public:
        raise InvalidRequestError("public clients must use PKCE (code_challenge, S256)")
    return challenge


def validate_request(
    items: Sequence[tuple[str, str]],
    *,
    load_client: Callable[[str], Client | None],
    settings: Settings,
    verify_hint: HintVerifier | None = None,
) -> AuthorizationRequest:
    """Run the checks in order. Raises OAuthError (show it) or AuthorizationRedirectError."""
    params, repeated = check_single_values(items)
    client = check_client(params, load_client)
    redirect_uri = check_redirect_uri(params, client)
    state = params.get("state")
    fragment = uses_fragment(params.get("response_type"))
    try:
        check_parameters(params, repeated)
        response_type = check_response_type(params, client)
        scope = check_scope(params, client, settings)
        check_resource(params, settings)
        challenge = check_pkce(params, client, response_type)
        oidc = check_oidc_request(
            params,
            scope=scope,
            default_max_age=client.default_max_age,
            verify_hint=verify_hint or _no_hints,
            client_id=client.client_id,
        )
    except OAuthError as error:
        raise AuthorizationRedirectError(
            error, redirect_uri=redirect_uri, state=state, fragment=fragment
        ) from None
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        redirect_uri_given="redirect_uri" in params,
        response_type=response_type,
        scope=scope,
        state=state,
        code_challenge=challenge,
        oidc=oidc,
    )


def _no_hints(hint: str, client_id: str) -> str:
    raise InvalidRequestError("id_token_hint is not accepted here")


def error_parameters(error: OAuthError) -> dict[str, Any]:
    params: dict[str, Any] = {"error": error.error}
    if error.description:
        params["error_description"] = error.description
    return params
