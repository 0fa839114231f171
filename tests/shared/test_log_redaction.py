"""Secrets in URLs never reach the access log."""

import logging

import pytest

from shared.log_redaction import MASK, RedactAccessLogFilter, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("/healthz", "/healthz", id="no-query"),
        pytest.param("/cb?state=abc", "/cb?state=abc", id="nothing-sensitive"),
        pytest.param("/cb?code=s3cret&state=abc", f"/cb?code={MASK}&state=abc", id="code"),
        pytest.param(
            "/v1/oauth/token?client_secret=x&grant_type=y",
            f"/v1/oauth/token?client_secret={MASK}&grant_type=y",
            id="client-secret",
        ),
        pytest.param("/x?Password=hunter2", f"/x?Password={MASK}", id="case-insensitive"),
        pytest.param(
            "/v1/oauth/authorize?id_token_hint=h.e.ad&login_hint=ann&prompt=login",
            f"/v1/oauth/authorize?id_token_hint={MASK}&login_hint={MASK}&prompt=login",
            id="oidc-hints",
        ),
        pytest.param(
            "/v1/oauth/logout?logout_hint=ann&state=s",
            f"/v1/oauth/logout?logout_hint={MASK}&state=s",
            id="logout-hint",
        ),
        pytest.param(
            "/x?client_assertion=j&device_code=d&request=jwt&code_challenge=c",
            f"/x?client_assertion={MASK}&device_code={MASK}&request={MASK}&code_challenge=c",
            id="other-credentials",
        ),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_filter_rewrites_uvicorn_access_record() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/callback?code=abcdef&state=s", "1.1", 303),
        None,
    )
    assert RedactAccessLogFilter().filter(record)
    message = record.getMessage()
    assert "abcdef" not in message
    assert f"code={MASK}" in message


def _access_record(path: str, status: int) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", status),
        None,
    )


@pytest.mark.parametrize(
    ("path", "status", "logged"),
    [
        pytest.param("/healthz", 200, False, id="healthy-probe-dropped"),
        pytest.param("/healthz", 503, True, id="failing-probe-kept"),
        pytest.param("/healthz?x=1", 200, True, id="other-url-kept"),
        pytest.param("/", 200, True, id="page-kept"),
    ],
)
def test_only_successful_health_checks_are_dropped(path: str, status: int, logged: bool) -> None:
    assert RedactAccessLogFilter().filter(_access_record(path, status)) is logged
