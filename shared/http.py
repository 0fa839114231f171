"""HTTP helpers shared by the services: cache headers, Basic credentials, form bodies, the
URL of a listen address."""

import base64
import binascii
import ipaddress
from collections.abc import Container, Mapping
from urllib.parse import unquote_plus

from shared.errors import InvalidClientError, InvalidRequestError, PayloadTooLargeError

NO_STORE_HEADERS: Mapping[str, str] = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104 (listen addresses, not URLs)


def parse_basic_credentials(authorization: str) -> tuple[str, str]:
    """Decode `Basic base64(urlencode(id):urlencode(secret))` per RFC 6749 §2.3.1."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise InvalidClientError("unsupported authorization scheme")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClientError("malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClientError("malformed Basic credentials")
    # Each half is form-urlencoded first (Appendix B), so `+` is a space.
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if "\x00" in client_id or "\x00" in secret:
        raise InvalidClientError("malformed Basic credentials")
    return client_id, secret


def parse_form(
    body: bytes, *, max_bytes: int, known: Container[str] | None = None
) -> dict[str, str]:
    """Parse a urlencoded body once, per RFC 6749 §3.1.

    Only the `known` parameters are kept (all named ones when `known` is None): the others
    are ignored, even repeated, as §3.1 requires, and so is an empty name; a repeated known
    parameter is refused. Parameters sent with an empty value are treated as omitted. NUL
    is refused: no parameter needs it, and PostgreSQL cannot store or even compare it. The
    split is done here rather than by `parse_qsl` (same rules for `&`, `=`, `+` and `%XX`,
    invalid UTF-8 refused) because the token endpoint parses a body per request and
    `parse_qsl` costs several times more.
    """
    if len(body) > max_bytes:
        raise PayloadTooLargeError(f"request body larger than {max_bytes} bytes")
    try:
        text = body.decode("utf-8")
        form: dict[str, str] = {}
        for pair in text.split("&"):
            if not pair:
                continue
            name, _, value = pair.partition("=")
            name, value = _form_unquote(name), _form_unquote(value)
            if not name or (known is not None and name not in known):
                continue
            if "\x00" in name or "\x00" in value:
                raise InvalidRequestError("parameters must not contain NUL characters")
            if name in form:
                raise InvalidRequestError(f"parameter {name!r} repeated")
            form[name] = value
    except UnicodeDecodeError:
        raise InvalidRequestError("request body is not valid UTF-8 form data") from None
    return {name: value for name, value in form.items() if value != ""}


def _form_unquote(text: str) -> str:
    """Decode one urlencoded name or value; the common plain case costs a scan, no call."""
    if "%" in text or "+" in text:
        return unquote_plus(text, errors="strict")
    return text


def is_form_content_type(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == FORM_CONTENT_TYPE


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback address (`127.0.0.1`, `[::1]`)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def public_url(host: str, port: int) -> str:
    """`http://host:port`, with loopback for a wildcard listen address."""
    host = "127.0.0.1" if host in _WILDCARD_HOSTS else host
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
