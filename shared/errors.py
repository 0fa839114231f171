"""OAuth 2 error codes as exceptions (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7591 §3.2.2;
RFC 8707 §2).

Each exception carries its RFC code and HTTP status; one handler renders them
(see `shared.error_handlers`). `description` is public text: short, ASCII, safe to
show, and what a developer needs to fix the request. `detail` is internal: facts the
caller has no business learning (another party's use of a code, a revoked grant) go
there, to the log (`log_detail`), never to the response.
"""

import logging
import re
from typing import ClassVar

logger = logging.getLogger(__name__)

# RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E. Descriptions may quote
# request input (a repeated parameter's name, an unknown grant_type), so the rest is masked.
_NOT_DESCRIPTION_CHAR = re.compile(r"[^\x20\x21\x23-\x5B\x5D-\x7E]")


class OAuthError(Exception):
    error: ClassVar[str] = "server_error"
    status_code: ClassVar[int] = 500

    def __init__(self, description: str | None = None, *, detail: str | None = None) -> None:
        if description:
            description = _NOT_DESCRIPTION_CHAR.sub("?", description)
        super().__init__(description or self.error)
        self.description = description
        self.detail = detail

    def headers(self) -> dict[str, str]:
        return {}

    def body(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


def log_detail(error: OAuthError) -> None:
    """Log an error's internal detail (by the handler that renders it)."""
    if error.detail:
        logger.info("%s: %s", error.error, error.detail)


class InvalidRequestError(OAuthError):
    error = "invalid_request"
    status_code = 400


class InvalidClientError(OAuthError):
    """401 when the client authenticated (or should have) with HTTP Basic, per RFC 6749 §5.2."""

    error = "invalid_client"
    status_code = 401

    def __init__(
        self,
        description: str | None = None,
        *,
        basic_challenge: bool = True,
        detail: str | None = None,
    ) -> None:
        super().__init__(description, detail=detail)
        self.basic_challenge = basic_challenge

    def headers(self) -> dict[str, str]:
        if self.basic_challenge:
            return {"WWW-Authenticate": 'Basic realm="oauth", charset="UTF-8"'}
        return {}


class InvalidGrantError(OAuthError):
    error = "invalid_grant"
    status_code = 400


class UnauthorizedClientError(OAuthError):
    error = "unauthorized_client"
    status_code = 400


class UnsupportedGrantTypeError(OAuthError):
    error = "unsupported_grant_type"
    status_code = 400


class UnsupportedResponseTypeError(OAuthError):
    error = "unsupported_response_type"
    status_code = 400


class UnsupportedTokenTypeError(OAuthError):
    """RFC 7009 §2.2.1."""

    error = "unsupported_token_type"
    status_code = 400


class InvalidScopeError(OAuthError):
    error = "invalid_scope"
    status_code = 400


class InvalidTargetError(OAuthError):
    """RFC 8707 §2: the `resource` is malformed, unknown, or not one this request may name."""

    error = "invalid_target"
    status_code = 400


class AccessDeniedError(OAuthError):
    error = "access_denied"
    status_code = 403


class InvalidRedirectUriError(OAuthError):
    """RFC 7591 §3.2.2."""

    error = "invalid_redirect_uri"
    status_code = 400


class InvalidClientMetadataError(OAuthError):
    """RFC 7591 §3.2.2."""

    error = "invalid_client_metadata"
    status_code = 400


class TemporarilyUnavailableError(OAuthError):
    """503 + `Retry-After` (RFC 6749 §4.1.2.1's code; RFC 9110 §15.6.4): the request is right
    and this server cannot serve it now; the same request succeeds after the wait."""

    error = "temporarily_unavailable"
    status_code = 503

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description)
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class PayloadTooLargeError(InvalidRequestError):
    status_code = 413


class BearerError(OAuthError):
    """Resource-server errors, rendered with a Bearer challenge (RFC 6750 §3)."""

    realm: ClassVar[str] = "dropletbook"

    def __init__(self, description: str | None = None, *, realm: str | None = None) -> None:
        super().__init__(description)
        self.realm_value = realm or self.realm

    def challenge_params(self) -> dict[str, str]:
        params = {"realm": self.realm_value, "error": self.error}
        if self.description:
            params["error_description"] = self.description
        return params

    def headers(self) -> dict[str, str]:
        rendered = ", ".join(f'{k}="{v}"' for k, v in self.challenge_params().items())
        return {"WWW-Authenticate": f"Bearer {rendered}"}


class InvalidTokenError(BearerError):
    error = "invalid_token"
    status_code = 401


class MissingTokenError(BearerError):
    """No credentials at all: RFC 6750 §3.1 says no error code or other error information,
    so the challenge is `Bearer realm="..."` alone and the body `{}`."""

    error = "invalid_token"
    status_code = 401

    def challenge_params(self) -> dict[str, str]:
        return {"realm": self.realm_value}

    def body(self) -> dict[str, str]:
        return {}


class InsufficientScopeError(BearerError):
    error = "insufficient_scope"
    status_code = 403

    def __init__(self, description: str | None = None, *, scope: str, realm: str | None = None):
        super().__init__(description, realm=realm)
        self.scope = scope

    def challenge_params(self) -> dict[str, str]:
        return {**super().challenge_params(), "scope": self.scope}


class BearerInvalidRequestError(BearerError):
    error = "invalid_request"
    status_code = 400
