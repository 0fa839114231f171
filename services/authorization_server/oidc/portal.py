"""The developer portal's OpenID Connect fields: form strings to client metadata and back,
checked by the rules RFC 7591 registration uses (oidc/client_metadata.py)."""

from typing import Any

from services.authorization_server.models import Client
from services.authorization_server.oidc.client_metadata import (
    OidcClientMetadata,
    check_oidc_metadata,
)
from services.authorization_server.oidc.id_token import ID_TOKEN_ALGORITHMS
from services.authorization_server.registration import RegistrationError
from services.authorization_server.request_body import PageForm

FIELDS = (
    "id_token_signed_response_alg",
    "userinfo_signed_response_alg",
    "post_logout_redirect_uris",
    "default_max_age",
    "require_auth_time",
)
ALGORITHM_CHOICES = ID_TOKEN_ALGORITHMS


def oidc_form_values(form: PageForm) -> dict[str, Any]:
    values: dict[str, Any] = {name: form.get(name) for name in FIELDS}
    values["require_auth_time"] = form.get("require_auth_time") == "on"
    return values


def oidc_client_values(client: Client) -> dict[str, Any]:
    metadata = OidcClientMetadata.of(client)
    return {
        "id_token_signed_response_alg": metadata.id_token_signed_response_alg,
        "userinfo_signed_response_alg": metadata.userinfo_signed_response_alg or "",
        "post_logout_redirect_uris": "\n".join(metadata.post_logout_redirect_uris),
        "default_max_age": "" if metadata.default_max_age is None else metadata.default_max_age,
        "require_auth_time": metadata.require_auth_time,
    }


def oidc_columns(values: dict[str, Any]) -> dict[str, Any]:
    """The `Client` columns the form asks for; RegistrationError names a refused field."""
    max_age = str(values.get("default_max_age") or "").strip()
    if max_age and not (max_age.isascii() and max_age.isdigit()):
        raise RegistrationError(
            "The default max age must be a number of seconds.", field="default_max_age"
        )
    uris = str(values.get("post_logout_redirect_uris") or "")
    metadata = check_oidc_metadata(
        id_token_signed_response_alg=values.get("id_token_signed_response_alg") or None,
        userinfo_signed_response_alg=values.get("userinfo_signed_response_alg") or None,
        post_logout_redirect_uris=[uri for uri in uris.splitlines() if uri.strip()],
        default_max_age=int(max_age) if max_age else None,
        require_auth_time=bool(values.get("require_auth_time")),
    )
    return metadata.columns()
