"""RP-Initiated Logout 1.0 §2-§3: the checks of a logout request.

Every error is shown to the user, never redirected: a `post_logout_redirect_uri` is used
only when it exactly matches one the client registered (found by `client_id` or the
`aud` of a verified `id_token_hint`), like redirect URIs at /authorize.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from services.authorization_server.authorization_response import redirect_url
from services.authorization_server.keys import KeyStore
from services.authorization_server.models import Client
from services.authorization_server.oidc.hints import read_id_token_hint
from shared.errors import InvalidRequestError

LOGOUT_PARAMETERS = ("client_id", "post_logout_redirect_uri", "state")
_MAX_LENGTH = 2000


@dataclass(frozen=True)
class LogoutRequest:
    client: Client | None
    post_logout_redirect_uri: str | None
    state: str | None

    def form_parameters(self) -> dict[str, str]:
        """The checked request, as the confirmation form's hidden fields."""
        values = {
            "client_id": self.client.client_id if self.client else None,
            "post_logout_redirect_uri": self.post_logout_redirect_uri,
            "state": self.state,
        }
        return {name: value for name, value in values.items() if value is not None}

    def redirect(self) -> str | None:
        """Where the browser goes once signed out (§3), with `state`; None: stay here."""
        if self.post_logout_redirect_uri is None:
            return None
        params = {"state": self.state} if self.state is not None else {}
        return redirect_url(self.post_logout_redirect_uri, params, fragment=False)


def _client_of_hint(claims: Mapping[str, object], client_id: str | None) -> str | None:
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else list(audience or [])  # type: ignore[call-overload]
    if client_id is not None and client_id not in audiences:
        raise InvalidRequestError("client_id is not the audience of id_token_hint")
    return client_id or (audiences[0] if len(audiences) == 1 else None)


def check_logout_request(
    params: Mapping[str, str],
    *,
    load_client: Callable[[str], Client | None],
    keys: KeyStore,
    issuer: str,
) -> LogoutRequest:
    if any(len(params.get(name, "")) > _MAX_LENGTH for name in LOGOUT_PARAMETERS):
        raise InvalidRequestError("a logout parameter is too long")
    client_id = params.get("client_id") or None
    hint = params.get("id_token_hint")
    if hint:
        claims = read_id_token_hint(hint, keys=keys, issuer=issuer, client_id=None)
        client_id = _client_of_hint(claims, client_id)
    client = load_client(client_id) if client_id else None
    if client_id and client is None:
        raise InvalidRequestError("unknown client_id")
    uri = params.get("post_logout_redirect_uri") or None
    if uri is not None:
        if client is None:
            raise InvalidRequestError(
                "post_logout_redirect_uri needs client_id or id_token_hint to name the client"
            )
        if uri not in client.post_logout_redirect_uris:
            raise InvalidRequestError("post_logout_redirect_uri is not registered for the client")
    return LogoutRequest(client, uri, params.get("state") or None)
