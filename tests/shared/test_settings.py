"""The production posture (shared/settings.py): weak secrets, http URLs and a default
database refused, every problem named at once; cookies always Secure.

In-process for each rule, and as real `uvicorn` processes: each service refuses to start in
production with its shipped settings, in one line naming every variable, never its value.
"""

import base64
import os
import secrets
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from services.authorization_server.settings import Settings as ASSettings
from services.demo_client.settings import Settings as ClientSettings
from services.resource_server.settings import Settings as RSSettings
from shared.settings import settings_error_message, weak_key, weak_secret
from tests.factories import STRONG_KEK, STRONG_SECRET
from tests.harness.servers import ROOT, free_port

STRONG = STRONG_SECRET
KEK = STRONG_KEK
AS_URL, RS_URL, CLIENT_URL = "https://as.example", "https://api.example", "https://app.example"

# Every production setting of each service, set to a value that passes.
GOOD: dict[type[BaseSettings], dict[str, Any]] = {
    ASSettings: {
        "issuer": AS_URL,
        "resource_audience": RS_URL,
        "database_url": "postgresql://as@db.example/as",
        "secret_key": STRONG,
        "key_encryption_keys": {"k1": KEK},
        "smtp_host": "mail.example",
    },
    RSSettings: {
        "issuer": AS_URL,
        "audience": RS_URL,
        "database_url": "postgresql://rs@db.example/rs",
        "feed_client_id": "droplet-cloud-api",
        "feed_client_secret": STRONG,
    },
    ClientSettings: {
        "public_url": CLIENT_URL,
        "issuer": AS_URL,
        "rs_url": RS_URL,
        "database_url": "postgresql://client@db.example/client",
        "client_secret": STRONG,
        "trusted_client_secret": STRONG,
        "service_client_secret": STRONG,
        "session_encryption_key": STRONG,
    },
}


def production(cls: type[BaseSettings], **overrides: Any) -> BaseSettings:
    return cls(environment="production", **{**GOOD[cls], **overrides})


@pytest.mark.parametrize("cls", list(GOOD))
def test_production_accepts_strong_secrets(cls: type[BaseSettings]) -> None:
    production(cls)


def test_production_needs_a_mail_server_for_sign_up() -> None:
    with pytest.raises(ValidationError, match="AS_SMTP_HOST must be set"):
        production(ASSettings, smtp_host=None)


DEFAULT = "still has its shipped default"
PLACEHOLDER = "still has its placeholder"
UNSET = "must be set"
SHORT = "must have at least 32 characters"
NOT_RANDOM = "is not random"
REPEATED = "is not random: a short sequence repeated"
HTTP = "must be an https URL"
WEAK = [  # class, field, value (None: the shipped default), the variable named, the problem
    pytest.param(ASSettings, "secret_key", None, "AS_SECRET_KEY", DEFAULT, id="as-default"),
    pytest.param(
        ASSettings,
        "secret_key",
        "change-me-" + STRONG,
        "AS_SECRET_KEY",
        PLACEHOLDER,
        id="as-placeholder",
    ),
    pytest.param(ASSettings, "secret_key", "s" * 31, "AS_SECRET_KEY", SHORT, id="as-short"),
    pytest.param(ASSettings, "secret_key", "a" * 34, "AS_SECRET_KEY", NOT_RANDOM, id="as-one-char"),
    pytest.param(
        ASSettings, "secret_key", "ab" * 20, "AS_SECRET_KEY", NOT_RANDOM, id="as-two-chars"
    ),
    pytest.param(
        ASSettings, "secret_key", "Xy7-Qp2_" * 5, "AS_SECRET_KEY", REPEATED, id="as-repeated"
    ),
    pytest.param(
        ASSettings,
        "registration_access_token",
        STRONG[:31],
        "AS_REGISTRATION_ACCESS_TOKEN",
        SHORT,
        id="initial-access-token-short",
    ),
    pytest.param(
        ASSettings,
        "registration_access_token",
        "t" * 40,
        "AS_REGISTRATION_ACCESS_TOKEN",
        NOT_RANDOM,
        id="initial-access-token-one-char",
    ),
    pytest.param(
        ASSettings,
        "key_encryption_keys",
        {"zero": base64.b64encode(bytes(32)).decode()},
        "AS_KEY_ENCRYPTION_KEYS key 'zero'",
        "is not random",
        id="kek-all-zero",
    ),
    pytest.param(
        ASSettings,
        "key_encryption_keys",
        {"k1": KEK, "ab": base64.b64encode(b"ab" * 16).decode()},
        "AS_KEY_ENCRYPTION_KEYS key 'ab'",
        "is not random",
        id="kek-repeated",
    ),
    pytest.param(ASSettings, "database_url", None, "AS_DATABASE_URL", UNSET, id="as-database"),
    pytest.param(ASSettings, "issuer", "http://as.example", "AS_ISSUER", HTTP, id="as-issuer"),
    pytest.param(
        ASSettings,
        "resource_audience",
        "http://api.example",
        "AS_RESOURCE_AUDIENCE",
        HTTP,
        id="as-audience",
    ),
    pytest.param(RSSettings, "issuer", "http://as.example", "RS_ISSUER", HTTP, id="rs-issuer"),
    pytest.param(RSSettings, "audience", None, "RS_AUDIENCE", HTTP, id="rs-audience"),
    pytest.param(RSSettings, "database_url", None, "RS_DATABASE_URL", UNSET, id="rs-database"),
    pytest.param(RSSettings, "feed_client_id", None, "RS_FEED_CLIENT_ID", UNSET, id="rs-feed-id"),
    pytest.param(
        ClientSettings, "public_url", None, "CLIENT_PUBLIC_URL", HTTP, id="client-public-url"
    ),
    pytest.param(
        ClientSettings, "database_url", None, "CLIENT_DATABASE_URL", UNSET, id="client-database"
    ),
    pytest.param(
        ClientSettings,
        "session_encryption_key",
        "0" * 43,
        "CLIENT_SESSION_ENCRYPTION_KEY",
        NOT_RANDOM,
        id="client-zero-key",
    ),
    pytest.param(
        ASSettings, "key_encryption_keys", None, "AS_KEY_ENCRYPTION_KEYS", UNSET, id="as-no-kek"
    ),
    pytest.param(
        ASSettings,
        "registration_access_token",
        "change-me-too",
        "AS_REGISTRATION_ACCESS_TOKEN",
        PLACEHOLDER,
        id="as-other",
    ),
    pytest.param(
        RSSettings, "feed_client_secret", None, "RS_FEED_CLIENT_SECRET", UNSET, id="rs-unset"
    ),
    pytest.param(
        RSSettings,
        "feed_client_secret",
        "droplet-cloud-api-demo-secret",
        "RS_FEED_CLIENT_SECRET",
        SHORT,
        id="rs-demo",
    ),
    pytest.param(
        ClientSettings, "client_secret", None, "CLIENT_CLIENT_SECRET", DEFAULT, id="client-default"
    ),
    pytest.param(
        ClientSettings,
        "trusted_client_secret",
        None,
        "CLIENT_TRUSTED_CLIENT_SECRET",
        DEFAULT,
        id="trusted-default",
    ),
    pytest.param(
        ClientSettings,
        "service_client_secret",
        "x" * 12,
        "CLIENT_SERVICE_CLIENT_SECRET",
        SHORT,
        id="service-short",
    ),
]


@pytest.mark.parametrize(("cls", "field", "value", "variable", "problem"), WEAK)
def test_production_refuses_weak_settings(
    cls: type[BaseSettings], field: str, value: Any, variable: str, problem: str
) -> None:
    values = {**GOOD[cls], "environment": "production"}
    if value is None:
        values.pop(field, None)  # the shipped default
    else:
        values[field] = value
    with pytest.raises(ValidationError) as caught:
        cls(**values)
    assert f"{variable} {problem}" in settings_error_message(caught.value, cls)
    if isinstance(value, str):
        assert value not in str(caught.value)  # errors never echo their input


@pytest.mark.parametrize("cls", list(GOOD))
def test_every_problem_is_named_at_once(cls: type[BaseSettings]) -> None:
    """One refusal lists each variable to fix, not one per try."""
    with pytest.raises(ValidationError) as caught:
        cls(environment="production")
    message = settings_error_message(caught.value, cls)
    prefix = str(cls.model_config.get("env_prefix"))
    named = {f"{prefix}{name.upper()}" for name in GOOD[cls] if name != "feed_client_id"}
    assert named <= {word.strip(";()") for word in message.split()}, message
    assert len(message.splitlines()) == 1


def test_generated_secrets_and_keys_always_pass() -> None:
    """The rules refuse what cannot be random, never what a generator makes."""
    for _ in range(2000):
        for secret in (
            secrets.token_urlsafe(32),
            secrets.token_hex(16),  # the weakest accepted: 32 characters of 16
            base64.b64encode(secrets.token_bytes(32)).decode(),
        ):
            assert weak_secret(secret) is None, secret
        assert weak_key(secrets.token_bytes(32)) is None


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("a" * 34, id="one-character"),
        pytest.param("aaaaabbbbbcccccdddddeeeee" * 2, id="five-characters"),
        pytest.param("0123456789" * 4, id="repeated-sequence"),
        pytest.param("correct horse battery staple" * 2, id="repeated-phrase"),
    ],
)
def test_secrets_that_cannot_be_random(secret: str) -> None:
    assert weak_secret(secret) is not None


@pytest.mark.parametrize(
    "key", [bytes(32), b"\xff" * 32, bytes(range(8)) * 4], ids=["zero", "ones", "period-8"]
)
def test_keys_that_cannot_be_random(key: bytes) -> None:
    assert weak_key(key) is not None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ""),
        ("127.0.0.1", "127.0.0.1/32"),
        (" 10.0.0.5 , 10.1.0.0/16,::1", "10.0.0.5/32,10.1.0.0/16,::1/128"),
    ],
)
def test_proxies_are_addresses_or_networks(value: str, expected: str) -> None:
    settings = RSSettings(environment="development", forwarded_allow_ips=value)
    assert settings.forwarded_allow_ips == expected


@pytest.mark.parametrize("value", ["*", "proxy.example", "10.0.0.300", "127.0.0.1;rm"])
def test_proxies_refuse_wildcards_and_names(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ClientSettings(environment="development", forwarded_allow_ips=value)
    assert settings_error_message(caught.value, ClientSettings).startswith(
        "CLIENT_FORWARDED_ALLOW_IPS: must list IP addresses or networks"
    )


@pytest.mark.parametrize("environment", ["production", "prod", "staging", " Production "])
def test_anything_but_development_is_production(environment: str) -> None:
    with pytest.raises(ValidationError, match="AS_SECRET_KEY"):
        ASSettings(environment=environment)


@pytest.mark.parametrize("cls", list(GOOD))
def test_development_keeps_the_demo_defaults(cls: type[BaseSettings]) -> None:
    cls(environment="development")


@pytest.mark.parametrize("cls", [ASSettings, ClientSettings])
def test_cookies_are_secure_outside_development(cls: type[BaseSettings]) -> None:
    assert production(cls, secure_cookies=False).secure_cookies is True  # type: ignore[attr-defined]
    assert cls(environment="development").secure_cookies is False  # type: ignore[attr-defined]


def test_errors_never_echo_secret_values() -> None:
    with pytest.raises(ValidationError) as caught:
        ASSettings(environment="production", secret_key="short-but-secret-value")
    assert "short-but-secret-value" not in str(caught.value)
    assert "AS_SECRET_KEY must have at least 32 characters" in str(caught.value)


def test_a_bad_value_names_its_variable() -> None:
    with pytest.raises(ValidationError) as caught:
        ASSettings(environment="development", access_token_ttl="soon")
    assert settings_error_message(caught.value, ASSettings).startswith("AS_ACCESS_TOKEN_TTL: ")


SERVICES = [
    pytest.param(
        "services.authorization_server.main:app",
        "AS_",
        ["AS_SECRET_KEY", "AS_KEY_ENCRYPTION_KEYS", "AS_ISSUER", "AS_SMTP_HOST"],
        id="as",
    ),
    pytest.param(
        "services.resource_server.main:app",
        "RS_",
        ["RS_FEED_CLIENT_SECRET", "RS_AUDIENCE", "RS_ISSUER"],
        id="rs",
    ),
    pytest.param(
        "services.demo_client.main:app",
        "CLIENT_",
        ["CLIENT_CLIENT_SECRET", "CLIENT_SESSION_ENCRYPTION_KEY", "CLIENT_PUBLIC_URL"],
        id="client",
    ),
]


@pytest.mark.parametrize(("app", "prefix", "variables"), SERVICES)
def test_services_refuse_to_start_in_production_with_demo_settings(
    app: str, prefix: str, variables: list[str], tmp_path: Any
) -> None:
    """No `*_ENVIRONMENT` at all: production, so the shipped settings stop the process,
    with one line that names every problem, and no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AS_", "RS_", "CLIENT_"))}
    env[f"{prefix}DATABASE_URL"] = f"sqlite:///{tmp_path / 'refused.db'}"
    if prefix == "RS_":
        env["RS_FEED_CLIENT_ID"] = "droplet-cloud-api"
        env["RS_FEED_CLIENT_SECRET"] = "droplet-cloud-api-demo-secret"
    port = str(free_port())
    done = subprocess.run(
        [sys.executable, "-m", "uvicorn", app, "--port", port],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{app.split(':')[0]}: refusing to start: invalid settings: ")
    for variable in variables:
        assert variable in lines[0]
    assert "demo-secret" not in done.stderr
    assert "Application startup complete" not in done.stderr
