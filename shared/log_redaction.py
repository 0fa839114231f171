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
MASK = "[redacted]"
HEALTH_PATH = "/healthz"


def redact_url(url: str) -> str:
    """The URL with the values of sensitive query parameters masked."""
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return url.split("?", 1)[0] + "?[unparseable query]"
    if not any(name.lower() in SENSITIVE_PARAMETERS for name, _ in pairs):
        return url
    masked = [(n, MASK if n.lower() in SENSITIVE_PARAMETERS else v) for n, v in pairs]
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
