"""Client registration rules: what a name, website, redirect URI, grant type list or scope
must be. Pure checks, shared by the developer portal, RFC 7591 and `/v1/apps/self`
(registration.py applies them; client_metadata.py maps their errors to RFC 7591)."""

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from services.authorization_server.grants import GRANT_TYPES, GRANTS
from shared.http import is_loopback_host
from shared.scopes import ScopeSyntaxError, format_scope, parse_scope

CLIENT_TYPES = ("confidential", "public")
MAX_REDIRECT_URIS = 10
# RFC 3986 §2: the characters a URI may contain (anything else must be percent-encoded).
_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


class RegistrationError(ValueError):
    """A registration value that is not acceptable; `field` names it for forms and RFC 7591."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def validate_redirect_uri(uri: str) -> str:
    """Absolute, https (or http on loopback only), no fragment (RFC 6749 §3.1.2), no
    userinfo (RFC 3986 §3.2.1; RFC 9700 §4.1 on lookalike redirect URIs)."""
    uri = uri.strip()
    if not uri or len(uri) > 2000 or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in uri):
        raise RegistrationError(
            "Redirect URIs must be non-empty URLs without spaces.", field="redirect_uris"
        )
    if not _URI_CHARACTERS.fullmatch(uri):
        raise RegistrationError(
            "Redirect URIs must be ASCII URLs; percent-encode other characters.",
            field="redirect_uris",
        )
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
    except ValueError:
        raise RegistrationError(f"Not a valid URL: {uri[:100]}", field="redirect_uris") from None
    if parts.fragment or "#" in uri:
        raise RegistrationError("Redirect URIs must not contain a fragment.", field="redirect_uris")
    if "@" in parts.netloc:  # `https://trusted.example@evil.example/` goes to evil.example
        raise RegistrationError(
            "Redirect URIs must not contain a user name or password (user@host).",
            field="redirect_uris",
        )
    if parts.scheme == "https" and host:
        return uri
    if parts.scheme == "http" and is_loopback_host(host):
        return uri
    raise RegistrationError(
        "Redirect URIs must use https (http is allowed only on localhost or 127.0.0.1).",
        field="redirect_uris",
    )


def validate_website(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise RegistrationError("The website must be an http(s) URL.", field="website") from None
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise RegistrationError("The website must be an http(s) URL.", field="website")
    if "@" in parts.netloc:
        raise RegistrationError(
            "The website must not contain a user name or password (user@host).", field="website"
        )
    return url


def normalize_redirect_uris(uris: Iterable[str], *, required: bool) -> list[str]:
    result: list[str] = []
    for uri in uris:
        if uri.strip():
            checked = validate_redirect_uri(uri)
            if checked not in result:
                result.append(checked)
    if len(result) > MAX_REDIRECT_URIS:
        raise RegistrationError(
            f"At most {MAX_REDIRECT_URIS} redirect URIs.", field="redirect_uris"
        )
    if required and not result:
        raise RegistrationError(
            "At least one redirect URI is needed for the code and implicit grants.",
            field="redirect_uris",
        )
    return result


def check_grant_types(grant_types: Iterable[str], *, client_type: str, trusted: bool) -> list[str]:
    chosen = list(dict.fromkeys(grant_types))
    unknown = [g for g in chosen if g not in GRANT_TYPES]
    if unknown:
        raise RegistrationError(f"Unknown grant type: {unknown[0][:50]}", field="grant_types")
    if not chosen:
        raise RegistrationError("Choose at least one grant type.", field="grant_types")
    grants = [GRANTS[name] for name in chosen]
    for grant in grants:
        if client_type == "public" and grant.confidential_only:
            raise RegistrationError(
                f"Public clients cannot use {grant.grant_type}: they hold no secret.",
                field="grant_types",
            )
    for grant in grants:
        if grant.trusted_only and not trusted:
            raise RegistrationError(
                f"The {grant.grant_type} grant is only for trusted (first-party) clients.",
                field="grant_types",
            )
    return chosen


# Invisible characters outside the Unicode categories refused below: Hangul fillers, the
# combining grapheme joiner and the braille blank show as nothing (or as a space).
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u034f\u2800")


def _is_hidden(character: str) -> bool:
    """Control, format (the bidi controls, zero-width characters, soft hyphen), surrogate,
    private-use or unassigned (C*), or a line or paragraph separator (Zl, Zp)."""
    category = unicodedata.category(character)
    return category[0] == "C" or category in ("Zl", "Zp") or character in _INVISIBLE


def check_name(name: str) -> str:
    """The name the consent screen shows, NFKC-normalised (so fullwidth and other
    compatibility forms read as what they are) with its spaces collapsed. Characters that
    display as nothing or reorder the text around them are refused: with them, a name can
    look like another app's (RFC 9700 §4.17 on consent phishing; Unicode UTS #39)."""
    name = unicodedata.normalize("NFKC", name).strip()
    if any(_is_hidden(character) for character in name):
        raise RegistrationError(
            "The application name must not contain control, format, bidi or invisible characters.",
            field="client_name",
        )
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise RegistrationError(
            "The application name is required (at most 100 characters).", field="client_name"
        )
    return name


def check_description(description: str) -> str:
    description = description.strip()
    if len(description) > 1000:
        raise RegistrationError(
            "The description must have at most 1000 characters.", field="description"
        )
    return description


def check_scope(scope: str, *, supported: Iterable[str]) -> str:
    try:
        scopes = parse_scope(scope)
    except ScopeSyntaxError:
        raise RegistrationError("Scope must be space-separated names.", field="scope") from None
    unknown = scopes - set(supported)
    if unknown or not scopes:
        raise RegistrationError(f"Supported scopes: {format_scope(supported)}", field="scope")
    return format_scope(scopes)
