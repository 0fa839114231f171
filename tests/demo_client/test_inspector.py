"""Masking, JWT decoding and recorded steps (inspector.py)."""

import base64
import json

from fastapi import FastAPI

from services.demo_client.api import ApiCall
from services.demo_client.explanations.parameters import CLAIM_MEANINGS, MEANINGS
from services.demo_client.inspector import (
    HIDDEN,
    MAX_STEPS,
    Flow,
    Recorder,
    decode_jwt,
    mask,
    mask_url,
    mask_value,
)
from services.demo_client.oauth import Exchange
from tests.demo_client.test_code_flow import connect, csrf
from tests.demo_client.test_sessions import stored_text
from tests.harness.browser import Browser


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_jwt(claims: dict[str, object]) -> str:
    return f"{b64({'alg': 'ES256', 'typ': 'at+jwt', 'kid': 'k1'})}.{b64(claims)}.c2ln"


def test_mask_keeps_only_the_first_characters() -> None:
    assert mask("abcdefghijklmnop") == "abcdef… (16 chars)"
    assert mask("abc") == "•••"


def test_mask_value_masks_secret_names_at_any_depth() -> None:
    body = {
        "access_token": "eyJhbGciOiJFUzI1NiJ9.payload",
        "token_type": "bearer",
        "scope": "read",
        "nested": {"refresh_token": "r" * 43, "client_secret": "s" * 43},
        "list": [{"code": "c" * 43}],
        "Authorization": "Basic ZHJvcGxldGJvb2s6c2VjcmV0",
    }
    masked = mask_value("", body)
    text = json.dumps(masked)
    for secret in ("payload", "r" * 43, "s" * 43, "c" * 43, "ZHJvcGxldGJvb2s6c2VjcmV0"):
        assert secret not in text
    assert masked["token_type"] == "bearer"
    assert masked["Authorization"] == "Basic •••••••• (hidden)"


def test_mask_url_masks_codes_and_keeps_the_rest() -> None:
    url = "http://127.0.0.1:8080/callback?code=" + "c" * 43 + "&state=abc"
    shown = mask_url(url)
    assert "c" * 43 not in shown
    assert shown.startswith("http://127.0.0.1:8080/callback?code=cccccc…")
    assert shown.endswith("&state=abc")
    assert mask_url("http://x/no-query") == "http://x/no-query"


def test_decode_jwt_for_display() -> None:
    header, claims = decode_jwt(fake_jwt({"sub": "u-1", "scope": "read"})) or ({}, {})
    assert header["typ"] == "at+jwt"
    assert claims == {"sub": "u-1", "scope": "read"}
    assert decode_jwt("opaque-token") is None
    assert decode_jwt("a.b.c") is None


def test_exchange_step_masks_form_headers_and_body() -> None:
    exchange = Exchange(
        "POST",
        "http://as/v1/oauth/token",
        {"grant_type": "authorization_code", "code": "C" * 43, "code_verifier": "V" * 64},
        200,
        {"access_token": "A" * 400, "refresh_token": "R" * 43, "token_type": "bearer"},
        client_auth="client_secret_basic",
        request_headers={"Authorization": "Basic " + "B" * 40},
    )
    rec = Recorder(Flow(key="code", title="t"))
    step = rec.exchange("Exchange", exchange, text="Why.", tutorial="Step 5")
    dumped = step.model_dump_json()
    for secret in ("C" * 43, "V" * 64, "A" * 400, "R" * 43, "B" * 40):
        assert secret not in dumped
    assert step.status == 200
    assert step.ok
    assert {p.name for p in step.params} == {"grant_type", "code", "code_verifier"}
    assert all(p.meaning for p in step.params)
    assert "client_secret_basic" in step.text


def test_jwt_step_explains_each_claim() -> None:
    rec = Recorder(Flow(key="code", title="t"))
    step = rec.jwt(fake_jwt({"iss": "http://as", "aud": "http://rs", "jti": "j"}))
    names = {p.name: p for p in step.params}
    assert names["header.kid"].value == "k1"
    assert "issuer" in names["iss"].meaning
    assert "audience" in names["aud"].meaning
    assert rec.jwt("opaque").title == "Access token"


def test_api_step_shows_status_and_challenge() -> None:
    call = ApiCall(
        "GET",
        "http://rs/v2/account",
        401,
        {"error": "invalid_token"},
        {"error": "invalid_token", "error_description": "expired"},
    )
    step = Recorder(Flow(key="code", title="t")).api(call, token="T" * 300)
    assert step.title == "API call: GET /v2/account"
    assert step.status == 401
    assert not step.ok
    assert 'error="invalid_token"' in step.text
    assert "T" * 300 not in step.model_dump_json()


def test_flows_keep_the_latest_steps_only() -> None:
    rec = Recorder(Flow(key="code", title="t"))
    for number in range(MAX_STEPS + 5):
        rec.note(f"step {number}", "")
    assert len(rec.flow.steps) == MAX_STEPS
    assert rec.flow.steps[-1].title == f"step {MAX_STEPS + 4}"


def test_passwords_and_client_secrets_are_hidden_entirely() -> None:
    masked = mask_value(
        "",
        {
            "password": "demo-password",
            "client_secret": "s" * 43,
            "Authorization": "Basic ZHJvcGxldGJvb2s6c2VjcmV0",
            "access_token": "A" * 40,
        },
    )
    assert masked["password"] == HIDDEN
    assert masked["client_secret"] == HIDDEN
    assert masked["Authorization"] == f"Basic {HIDDEN}"
    assert masked["access_token"] == "AAAAAA… (40 chars)"  # tokens keep a short prefix
    assert mask_value("", {"Authorization": "Bearer " + "T" * 40})["Authorization"] == (
        "Bearer TTTTTT… (40 chars)"
    )


def test_the_password_is_shown_and_stored_without_any_part_of_it(
    app: FastAPI, browser: Browser
) -> None:
    for password in ("wrong-password-1", "demo-password"):
        form = {
            "csrf_token": csrf(browser, "/password"),
            "username": "demo@example.com",
            "password": password,
        }
        browser.post("/password", data=form)
    page = browser.get("/password").text + browser.get("/inspector").text
    assert "Token request with the user" in page
    assert HIDDEN in page
    for shown in (page, stored_text(app)):
        for leak in ("demo-p", "wrong-", "(13 chars)", "(16 chars)"):
            assert leak not in shown


def test_client_secrets_are_shown_and_stored_without_any_part_of_them(
    app: FastAPI, browser: Browser
) -> None:
    connect(browser)
    token = csrf(browser, "/client-credentials")
    browser.post("/client-credentials/token", data={"csrf_token": token})
    page = browser.get("/inspector").text
    assert "client secret" in page
    assert f"Basic {HIDDEN}" in page
    for shown in (page, stored_text(app)):
        assert "Basic ZHJv" not in shown  # base64 of "dropletbook…:secret"
        assert "(23 chars)" not in shown  # len("dropletbook-demo-secret")
        assert "drople…" not in shown


def test_parameter_and_claim_meanings_are_plain_text() -> None:
    """The inspector shows them as text: Markdown backticks would appear literally."""
    for meaning in (*MEANINGS.values(), *CLAIM_MEANINGS.values()):
        assert "`" not in meaning, meaning
