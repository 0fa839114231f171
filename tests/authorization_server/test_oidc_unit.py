"""OpenID Connect logic without HTTP: at_hash, the ID token's claims and signature, the
claims of each scope, the request parameters and the login/consent decisions."""

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from services.authorization_server.context import ServerContext
from services.authorization_server.models import User
from services.authorization_server.oidc.claims import scope_labels, user_claims
from services.authorization_server.oidc.client_metadata import check_oidc_metadata
from services.authorization_server.oidc.hints import read_id_token_hint
from services.authorization_server.oidc.id_token import at_hash, id_token_claims
from services.authorization_server.oidc.interaction import (
    ConsentRequiredError,
    InteractionRequiredError,
    LoginRequiredError,
    must_ask_consent,
    must_log_in,
)
from services.authorization_server.oidc.request import (
    Login,
    OidcRequest,
    check_max_age,
    check_prompt,
)
from services.authorization_server.registration import RegistrationError
from services.authorization_server.tokens import read_access_token
from shared.errors import InvalidRequestError, InvalidTokenError
from shared.jwt import public_jwk, verify_jwt

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
USER = User(
    id="u-1",
    email="ada@example.com",
    name="Ada",
    password_hash="x",
    updated_at=datetime(2026, 1, 2, tzinfo=UTC),
)


def test_at_hash_is_the_left_half_of_sha256_base64url() -> None:
    # OpenID Connect Core §3.1.3.6; the value cross-checked with an independent computation.
    token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
    expected = base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()[:16])
    assert at_hash(token) == expected.rstrip(b"=").decode()
    assert len(at_hash(token)) == 22


def test_claims_follow_the_scopes() -> None:
    assert user_claims(USER, "openid") == {"sub": "u-1"}
    assert user_claims(USER, "openid profile") == {
        "sub": "u-1",
        "name": "Ada",
        "updated_at": int(USER.updated_at.timestamp()),
    }
    assert user_claims(USER, "openid email read") == {
        "sub": "u-1",
        "email": "ada@example.com",
        "email_verified": True,
    }


def test_consent_labels_name_the_identity_scopes_in_words() -> None:
    labels = scope_labels({"read": "Read"})
    assert (labels["profile"], labels["email"], labels["read"]) == (
        "Your name",
        "Your email address",
        "Read",
    )


def test_id_token_claims() -> None:
    claims = id_token_claims(
        issuer="https://as.example",
        user=USER,
        client_id="rp",
        scope="openid email",
        auth_time=NOW,
        nonce="n",
        sid="s",
        access_token="at",
        now=1000,
        ttl=60,
    )
    assert claims == {
        "iss": "https://as.example",
        "sub": "u-1",
        "email": "ada@example.com",
        "email_verified": True,
        "aud": "rp",
        "iat": 1000,
        "exp": 1060,
        "auth_time": int(NOW.timestamp()),
        "nonce": "n",
        "sid": "s",
        "at_hash": at_hash("at"),
    }
    bare = id_token_claims(
        issuer="i",
        user=USER,
        client_id="rp",
        scope="openid",
        auth_time=None,
        nonce=None,
        sid=None,
        access_token=None,
        now=1,
        ttl=1,
    )
    assert set(bare) == {"iss", "sub", "aud", "iat", "exp"}


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_id_tokens_are_signed_with_the_clients_algorithm(
    context: ServerContext, algorithm: str
) -> None:
    token = context.id_tokens.issue(
        user=USER,
        client_id="rp",
        algorithm=algorithm,
        scope="openid",
        auth_time=NOW,
        nonce="n",
        sid=None,
        access_token="at",
    )
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["typ"]) == (algorithm, "JWT")
    key = context.keys.signing_key(algorithm=algorithm)
    assert header["kid"] == key.kid
    verified = jwt.decode(
        token,
        jwt.PyJWK(public_jwk(key)).key,
        algorithms=[algorithm],
        audience="rp",
        issuer=context.settings.issuer,
    )
    assert verified["nonce"] == "n"
    claims = read_id_token_hint(
        token, keys=context.keys, issuer=context.settings.issuer, client_id="rp"
    )
    assert claims["sub"] == "u-1"
    with pytest.raises(InvalidRequestError):
        read_id_token_hint(token, keys=context.keys, issuer="https://other.example", client_id="rp")
    with pytest.raises(InvalidRequestError):
        read_id_token_hint(token, keys=context.keys, issuer=context.settings.issuer, client_id="x")


def test_an_access_token_is_no_hint(context: ServerContext) -> None:
    access = context.tokens.issue_for_user(user=USER, client_id="rp", scope="openid").value
    with pytest.raises(InvalidRequestError):
        read_id_token_hint(
            access, keys=context.keys, issuer=context.settings.issuer, client_id=None
        )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, frozenset()), ("login consent", frozenset({"login", "consent"})), ("none", {"none"})],
)
def test_prompt(value: str | None, expected: frozenset[str]) -> None:
    assert check_prompt(value) == expected


@pytest.mark.parametrize("value", ["none consent", "select_account", "x"])
def test_bad_prompt(value: str) -> None:
    with pytest.raises(InvalidRequestError):
        check_prompt(value)


def test_max_age_and_its_default() -> None:
    assert check_max_age(None, 300) == 300
    assert check_max_age("0", 300) == 0
    for bad in ("-1", "1.5", "٣", "9" * 12):
        with pytest.raises(InvalidRequestError):
            check_max_age(bad, None)


LOGIN = Login(user_id="u-1", auth_time=NOW - timedelta(seconds=100), sid="s")


@pytest.mark.parametrize(
    ("request_", "login", "expected"),
    [
        (OidcRequest(), LOGIN, False),
        (OidcRequest(), None, True),
        (OidcRequest(prompt=frozenset({"login"})), LOGIN, True),
        (OidcRequest(max_age=0), LOGIN, True),
        (OidcRequest(max_age=99), LOGIN, True),
        (OidcRequest(max_age=100), LOGIN, False),
        (OidcRequest(hinted_subject="u-2"), LOGIN, True),
        (OidcRequest(hinted_subject="u-1"), LOGIN, False),
    ],
)
def test_must_log_in(request_: OidcRequest, login: Login | None, expected: bool) -> None:
    assert must_log_in(request_, login, now=NOW) is expected


@pytest.mark.parametrize(
    ("request_", "login", "error"),
    [
        (OidcRequest(prompt=frozenset({"none"})), None, LoginRequiredError),
        (OidcRequest(prompt=frozenset({"none"}), max_age=10), LOGIN, LoginRequiredError),
        (
            OidcRequest(prompt=frozenset({"none"}), hinted_subject="u-2"),
            LOGIN,
            InteractionRequiredError,
        ),
    ],
)
def test_prompt_none_turns_a_needed_login_into_an_error(
    request_: OidcRequest, login: Login | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        must_log_in(request_, login, now=NOW)


def test_consent_decisions() -> None:
    assert must_ask_consent(OidcRequest(), consented=False)
    assert not must_ask_consent(OidcRequest(), consented=True)
    assert must_ask_consent(OidcRequest(prompt=frozenset({"consent"})), consented=True)
    with pytest.raises(ConsentRequiredError):
        must_ask_consent(OidcRequest(prompt=frozenset({"none"})), consented=False)


def test_the_continued_request_drops_the_spent_login_prompts() -> None:
    request = OidcRequest(nonce="n", prompt=frozenset({"login", "consent"}), max_age=0)
    assert request.form_parameters() == {"nonce": "n", "prompt": "consent"}


def test_client_metadata_defaults_and_refusals() -> None:
    defaults = check_oidc_metadata()
    assert defaults.columns() == {
        "id_token_signed_response_alg": "RS256",
        "userinfo_signed_response_alg": None,
        "post_logout_redirect_uris": [],
        "subject_type": "public",
        "default_max_age": None,
        "require_auth_time": False,
    }
    for bad in (
        {"id_token_signed_response_alg": "HS256"},
        {"userinfo_signed_response_alg": "none"},
        {"subject_type": "pairwise"},
        {"default_max_age": 0},
        {"post_logout_redirect_uris": ["ftp://x.example/"]},
    ):
        with pytest.raises(RegistrationError) as caught:
            check_oidc_metadata(**bad)  # type: ignore[arg-type]
        assert caught.value.field == next(iter(bad))


def test_an_id_token_is_no_access_token(context: ServerContext) -> None:
    """`typ` keeps them apart: the resource server's check (RFC 9068 `at+jwt`) and this
    server's own reading of access tokens (UserInfo, introspection) refuse an ID token."""
    token = context.id_tokens.issue(
        user=USER,
        client_id="rp",
        algorithm="ES256",
        scope="openid read",
        auth_time=NOW,
        nonce=None,
        sid=None,
        access_token=None,
    )
    key = context.keys.verification_key(jwt.get_unverified_header(token)["kid"])
    assert key is not None
    with pytest.raises(InvalidTokenError, match="token type"):
        verify_jwt(token, key=key, issuer=context.settings.issuer, audience=None)
    assert read_access_token(token, keys=context.keys, issuer=context.settings.issuer) is None
