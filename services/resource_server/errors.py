"""API errors of the resource server, rendered by the shared handler like OAuth errors."""

from shared.errors import OAuthError, TemporarilyUnavailableError


class NotFoundError(OAuthError):
    """Also the answer for another account's resource: its existence is not disclosed."""

    error = "not_found"
    status_code = 404


class DropletLimitError(OAuthError):
    error = "droplet_limit_exceeded"
    status_code = 422


class AccountLockedError(OAuthError):
    error = "account_locked"
    status_code = 403


class RevocationListStaleError(TemporarilyUnavailableError):
    """The token may be good, but whether it was revoked cannot be told (RS_MAX_REVOCATION_AGE).

    503, not RFC 6750's 401 invalid_token: that code says the token itself is bad, so a
    client would discard it (and perhaps sign its user out) for a fault of this server. A
    503 with Retry-After (RFC 9110 §15.6.4) asks it to send the same token again later.
    """
