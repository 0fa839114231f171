"""Keep secrets out of logs: uvicorn's access log prints each request's path and query.

A code in a callback URL, or a client secret that a misbehaving client put in a query
string, would otherwise land in the log. The filter masks the values of such parameters.
It also drops successful health checks (`GET /healthz` 200), which orchestrators send every
few seconds: a failing one is still logged.
"""

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SENSITIVE_PARAMETERS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "code",
        "code_verifier",
        "client_secret",
        "password",
        "token",
        "assertion",
    }
)
# Masked in logs too: an OpenID Connect request object (a JWT that may carry any of the
# above), and any name containing or ending in these: id_token_hint, login_hint,
# logout_hint, client_assertion, device_code, subject_token...
_ALSO_LOGGED_MASKED = frozenset({"request"})
_SENSITIVE_PARTS = ("token", "secret", "password", "assertion", "verifier")
_SENSITIVE_SUFFIXES = ("_hint", "_code")
MASK = "[redacted]"
HEALTH_PATH = "/healthz"


def is_sensitive(name: str) -> bool:
    """A parameter whose value is a credential, a token or a hint that names a person."""
    name = name.lower()
    return (
        name in SENSITIVE_PARAMETERS
        or name in _ALSO_LOGGED_MASKED
        or any(part in name for part in _SENSITIVE_PARTS)
        or name.endswith(_SENSITIVE_SUFFIXES)
    )


def redact_url(url: str) -> str:
    """The URL with the values of sensitive query parameters masked."""
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return url.split("?", 1)[0] + "?[unparseable query]"
    if not any(is_sensitive(name) for name, _ in pairs):
        return url
    masked = [(n, MASK if is_sensitive(n) else v) for n, v in pairs]
    return urlunsplit(parts._replace(query=urlencode(masked, safe="[]")))


class RedactAccessLogFilter(logging.Filter):
    """For uvicorn's access logger, whose args are (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            if args[2] == HEALTH_PATH and args[4:5] == (200,):
                return False
            record.args = (*args[:2], redact_url(args[2]), *args[3:])
        return True


def install_access_log_redaction() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactAccessLogFilter) for f in logger.filters):
        logger.addFilter(RedactAccessLogFilter())
