"""OpenID Connect parameters of the authorization request (Core 1.0 §3.1.2.1).

Read only when the scope holds `openid`; an OAuth-only request ignores them, as before.
`nonce` goes into the code and back in the ID token; `prompt`, `max_age`, `login_hint` and
`id_token_hint` steer whether the user logs in again or sees the consent screen
(interaction.py); `ui_locales` is accepted and ignored (the pages are in English).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from services.authorization_server.oidc.claims import is_openid
from shared.errors import InvalidRequestError

OIDC_PARAMETERS = ("nonce", "prompt", "max_age", "login_hint", "id_token_hint", "ui_locales")
PROMPT_VALUES = ("none", "login", "consent")
_MAX_AGE_LIMIT = 10**9  # about 32 years: larger values are typos, not policies
_MAX_NONCE = 512
HintVerifier = Callable[[str, str], str]
"""Checks an `id_token_hint` for a client id and returns its `sub` (hints.py)."""


@dataclass(frozen=True)
class Login:
    """Who is logged in on this browser, since when, and the session's id."""

    user_id: str
    auth_time: datetime
    sid: str | None


@dataclass(frozen=True)
class OidcRequest:
    nonce: str | None = None
    prompt: frozenset[str] = frozenset()
    max_age: int | None = None
    login_hint: str | None = None
    hinted_subject: str | None = None
    """The `sub` of a verified `id_token_hint`: the user the client expects."""
    login: Login | None = None
    """Set once the user is known: what the code remembers for the ID token."""

    def form_parameters(self) -> dict[str, str]:
        """What the login and consent steps carry forward. `prompt=login`, `max_age`, the
        hints are spent once the user is sent to log in, so they are not repeated (else a
        fresh login would be asked for again, forever)."""
        values = {"nonce": self.nonce, "prompt": " ".join(sorted(self.prompt - {"login"}))}
        return {name: value for name, value in values.items() if value}

    def with_login(self, login: Login) -> "OidcRequest":
        return replace(self, login=login)


def check_prompt(value: str | None) -> frozenset[str]:
    prompt = frozenset((value or "").split())
    unknown = prompt - set(PROMPT_VALUES)
    if unknown:
        raise InvalidRequestError(f"prompt values supported: {', '.join(PROMPT_VALUES)}")
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequestError("prompt=none cannot be combined with other values")
    return prompt


def check_max_age(value: str | None, default: int | None) -> int | None:
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or int(value) > _MAX_AGE_LIMIT:
        raise InvalidRequestError("max_age must be a non-negative number of seconds")
    return int(value)


def check_oidc_request(
    params: Mapping[str, str],
    *,
    scope: str,
    default_max_age: int | None,
    verify_hint: HintVerifier,
    client_id: str,
) -> OidcRequest | None:
    """The OpenID Connect request within an `openid` authorization request, checked."""
    if not is_openid(scope):
        return None
    nonce = params.get("nonce")
    if nonce is not None and len(nonce) > _MAX_NONCE:
        raise InvalidRequestError(f"nonce longer than {_MAX_NONCE} characters")
    hint = params.get("id_token_hint")
    return OidcRequest(
        nonce=nonce,
        prompt=check_prompt(params.get("prompt")),
        max_age=check_max_age(params.get("max_age"), default_max_age),
        login_hint=params.get("login_hint"),
        hinted_subject=verify_hint(hint, client_id) if hint is not None else None,
    )
