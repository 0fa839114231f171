"""API errors of the resource server, rendered by the shared handler like OAuth errors."""

from shared.errors import OAuthError


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
