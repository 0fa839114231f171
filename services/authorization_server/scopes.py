"""Scope policy: what a client may ask for, and the default when it asks for nothing."""

import functools
from collections.abc import Iterable

from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.models import Client
from shared.errors import InvalidScopeError
from shared.scopes import ScopeSyntaxError, format_scope, parse_scope


def resolve_scope(
    requested: str | None,
    *,
    client: Client | RegisteredClient,
    supported: Iterable[str],
    default: str,
    open_to_all: Iterable[str] = (),
) -> str:
    """The granted scope string for a request, per RFC 6749 §3.3; `open_to_all` scopes
    need no registration (the OpenID Connect identity scopes at /authorize)."""
    allowed = " ".join((client.scope, *open_to_all))
    return _resolve(requested, allowed, tuple(supported), default)


@functools.lru_cache(maxsize=1024)
def _resolve(
    requested: str | None, allowed_scope: str, supported: tuple[str, ...], default: str
) -> str:
    """Pure in its arguments, so cached: the token hot path asks the same few questions."""
    try:
        scopes = parse_scope(requested)
    except ScopeSyntaxError as exc:
        raise InvalidScopeError(str(exc)) from None
    allowed = parse_scope(allowed_scope)
    if not scopes:  # the default, less what this endpoint does not serve (`openid` at /token)
        scopes = parse_scope(default) & allowed & set(supported)
        if not scopes:
            raise InvalidScopeError("no scope requested and no default applies")
    unknown = scopes - set(supported)
    if unknown:
        raise InvalidScopeError(f"unknown scope: {format_scope(unknown)}")
    if not scopes <= allowed:
        raise InvalidScopeError(
            f"scope not allowed for this client: {format_scope(scopes - allowed)}"
        )
    return format_scope(scopes)


def narrow_scope(requested: str | None, *, granted: str) -> str:
    """A refresh may keep or narrow the granted scope, never widen it (RFC 6749 §6)."""
    if requested is None:
        return granted
    try:
        scopes = parse_scope(requested)
    except ScopeSyntaxError as exc:
        raise InvalidScopeError(str(exc)) from None
    if not scopes <= parse_scope(granted):
        raise InvalidScopeError("requested scope exceeds the scope originally granted")
    return format_scope(scopes)
