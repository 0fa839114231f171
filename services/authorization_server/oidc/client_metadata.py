"""OpenID Connect client metadata (Dynamic Client Registration 1.0 §2; RP-Initiated
Logout 1.0 §3.1), checked by the rules of every registration (registration.py).

Values this server does not support are refused, never ignored: a client that asked for
`pairwise` subjects or an unknown algorithm must not believe it got them.
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from services.authorization_server.client_rules import RegistrationError, validate_redirect_uri
from services.authorization_server.models import Client
from services.authorization_server.oidc.id_token import ID_TOKEN_ALGORITHMS

SUBJECT_TYPES = ("public",)
MAX_LOGOUT_URIS = 10
_MAX_AGE_LIMIT = 10**9
_LOGOUT_URIS = "post_logout_redirect_uris"


@dataclass(frozen=True)
class OidcClientMetadata:
    id_token_signed_response_alg: str = ID_TOKEN_ALGORITHMS[0]
    userinfo_signed_response_alg: str | None = None
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    subject_type: str = SUBJECT_TYPES[0]
    default_max_age: int | None = None
    require_auth_time: bool = False

    def columns(self) -> dict[str, Any]:
        """The `Client` columns, by the same names."""
        return asdict(self)

    @classmethod
    def of(cls, client: Client) -> "OidcClientMetadata":
        return cls(**{name: getattr(client, name) for name in cls.__dataclass_fields__})


def _algorithm(name: str, value: str) -> str:
    if value not in ID_TOKEN_ALGORITHMS:
        raise RegistrationError(f"{name} supported: {', '.join(ID_TOKEN_ALGORITHMS)}", field=name)
    return value


def _logout_uris(uris: Iterable[str]) -> list[str]:
    checked: list[str] = []
    for uri in uris:
        try:
            value = validate_redirect_uri(uri)
        except RegistrationError as exc:  # the same rules, but the error names this field
            raise RegistrationError(f"{_LOGOUT_URIS}: {exc}", field=_LOGOUT_URIS) from None
        if value not in checked:
            checked.append(value)
    if len(checked) > MAX_LOGOUT_URIS:
        raise RegistrationError(
            f"{_LOGOUT_URIS}: at most {MAX_LOGOUT_URIS} URIs.",
            field=_LOGOUT_URIS,
        )
    return checked


def check_oidc_metadata(
    *,
    id_token_signed_response_alg: str | None = None,
    userinfo_signed_response_alg: str | None = None,
    post_logout_redirect_uris: Iterable[str] | None = None,
    subject_type: str | None = None,
    default_max_age: int | None = None,
    require_auth_time: bool | None = None,
) -> OidcClientMetadata:
    """The registered values; None takes the default. RegistrationError names the field."""
    if subject_type not in (None, *SUBJECT_TYPES):
        raise RegistrationError(
            f"subject_type supported: {', '.join(SUBJECT_TYPES)}", field="subject_type"
        )
    if default_max_age is not None and not 1 <= default_max_age <= _MAX_AGE_LIMIT:
        raise RegistrationError(
            "default_max_age must be a positive number of seconds", field="default_max_age"
        )
    userinfo_alg = userinfo_signed_response_alg
    return OidcClientMetadata(
        id_token_signed_response_alg=_algorithm(
            "id_token_signed_response_alg", id_token_signed_response_alg or ID_TOKEN_ALGORITHMS[0]
        ),
        userinfo_signed_response_alg=(
            None
            if userinfo_alg is None
            else _algorithm("userinfo_signed_response_alg", userinfo_alg)
        ),
        post_logout_redirect_uris=_logout_uris(post_logout_redirect_uris or ()),
        subject_type=subject_type or SUBJECT_TYPES[0],
        default_max_age=default_max_age,
        require_auth_time=bool(require_auth_time),
    )
