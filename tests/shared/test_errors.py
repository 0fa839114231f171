"""shared.errors: one exception per RFC code, with its status, body and headers."""

import pytest

from shared import errors
from shared.errors import OAuthError


@pytest.mark.parametrize(
    ("exception", "code", "status"),
    [
        pytest.param(errors.InvalidRequestError, "invalid_request", 400, id="invalid_request"),
        pytest.param(errors.InvalidGrantError, "invalid_grant", 400, id="invalid_grant"),
        pytest.param(
            errors.UnauthorizedClientError, "unauthorized_client", 400, id="unauthorized_client"
        ),
        pytest.param(
            errors.UnsupportedGrantTypeError,
            "unsupported_grant_type",
            400,
            id="unsupported_grant_type",
        ),
        pytest.param(
            errors.UnsupportedResponseTypeError,
            "unsupported_response_type",
            400,
            id="unsupported_response_type",
        ),
        pytest.param(
            errors.UnsupportedTokenTypeError,
            "unsupported_token_type",
            400,
            id="unsupported_token_type",
        ),
        pytest.param(errors.InvalidScopeError, "invalid_scope", 400, id="invalid_scope"),
        pytest.param(errors.AccessDeniedError, "access_denied", 403, id="access_denied"),
        pytest.param(
            errors.InvalidRedirectUriError, "invalid_redirect_uri", 400, id="invalid_redirect_uri"
        ),
        pytest.param(
            errors.InvalidClientMetadataError,
            "invalid_client_metadata",
            400,
            id="invalid_client_metadata",
        ),
        pytest.param(errors.PayloadTooLargeError, "invalid_request", 413, id="payload_too_large"),
    ],
)
def test_codes_and_statuses(exception: type[OAuthError], code: str, status: int) -> None:
    error = exception("something is off")
    assert (error.error, error.status_code) == (code, status)
    assert error.body() == {"error": code, "error_description": "something is off"}
    assert error.headers() == {}


def test_body_without_description() -> None:
    assert errors.InvalidGrantError().body() == {"error": "invalid_grant"}
    assert str(errors.InvalidGrantError()) == "invalid_grant"


def test_invalid_client_challenges_basic_only_when_asked() -> None:
    basic = errors.InvalidClientError("client authentication failed")
    assert basic.status_code == 401
    assert basic.headers() == {"WWW-Authenticate": 'Basic realm="oauth", charset="UTF-8"'}
    posted = errors.InvalidClientError("client authentication failed", basic_challenge=False)
    assert (posted.status_code, posted.headers()) == (401, {})


@pytest.mark.parametrize(
    ("error", "status", "challenge"),
    [
        pytest.param(
            errors.InvalidTokenError("token expired"),
            401,
            'Bearer realm="dropletbook", error="invalid_token", error_description="token expired"',
            id="invalid_token",
        ),
        pytest.param(
            errors.MissingTokenError("no token"),
            401,
            'Bearer realm="dropletbook"',
            id="missing_token",
        ),
        pytest.param(
            errors.InsufficientScopeError("needs write", scope="write", realm="api"),
            403,
            'Bearer realm="api", error="insufficient_scope", '
            'error_description="needs write", scope="write"',
            id="insufficient_scope",
        ),
        pytest.param(
            errors.BearerInvalidRequestError(),
            400,
            'Bearer realm="dropletbook", error="invalid_request"',
            id="bearer_invalid_request",
        ),
    ],
)
def test_bearer_challenges(error: errors.BearerError, status: int, challenge: str) -> None:
    """RFC 6750 §3: the challenge names the realm, the code and, for scope errors, the scope."""
    assert error.status_code == status
    assert error.headers() == {"WWW-Authenticate": challenge}


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        pytest.param("plain text: ok (1-2)", "plain text: ok (1-2)", id="kept"),
        pytest.param("grant_type 'caf\u00e9'", "grant_type 'caf?'", id="non-ascii"),
        pytest.param('grant_type "a\'b"', "grant_type ?a'b?", id="double-quote"),
        pytest.param("back\\slash", "back?slash", id="backslash"),
        pytest.param("line\r\nbreak\ttab", "line??break?tab", id="control"),
    ],
)
def test_description_is_rfc_6749_safe(description: str, expected: str) -> None:
    """RFC 6749 §5.2: %x20-21 / %x23-5B / %x5D-7E only, even when it quotes request input."""
    error = errors.InvalidRequestError(description)
    assert error.description == expected
    assert error.body()["error_description"] == expected
    bearer = errors.InvalidTokenError(description)
    assert bearer.headers()["WWW-Authenticate"].endswith(f'error_description="{expected}"')
