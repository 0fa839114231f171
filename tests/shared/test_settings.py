"""The production posture (shared/settings.py): weak secrets refused, cookies always Secure.

In-process for each rule, and as real `uvicorn` processes: each service refuses to start in
production with its shipped secrets, naming the variable and never printing the value.
"""

import base64
import os
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from services.authorization_server.settings import Settings as ASSettings
from services.demo_client.settings import Settings as ClientSettings
from services.resource_server.settings import Settings as RSSettings
from shared.settings import settings_error_message
from tests.harness.servers import ROOT, free_port

STRONG = "S" * 43
KEK = base64.b64encode(b"k" * 32).decode()

# Every production secret of each service, set to a value that passes.
GOOD: dict[type[BaseSettings], dict[str, Any]] = {
    ASSettings: {
        "secret_key": STRONG,
        "key_encryption_keys": {"k1": KEK},
        "smtp_host": "mail.example",
    },
    RSSettings: {"feed_client_id": "droplet-cloud-api", "feed_client_secret": STRONG},
    ClientSettings: {
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
def test_production_refuses_weak_secrets(
    cls: type[BaseSettings], field: str, value: str | None, variable: str, problem: str
) -> None:
    values = {**GOOD[cls], "environment": "production"}
    if value is None:
        values.pop(field, None)  # the shipped default
    else:
        values[field] = value
    with pytest.raises(ValidationError) as caught:
        cls(**values)
    assert f"{variable} {problem}" in settings_error_message(caught.value, cls)
    if value:
        assert value not in str(caught.value)  # errors never echo their input


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
    pytest.param("services.authorization_server.main:app", "AS_", "AS_SECRET_KEY", id="as"),
    pytest.param("services.resource_server.main:app", "RS_", "RS_FEED_CLIENT_SECRET", id="rs"),
    pytest.param("services.demo_client.main:app", "CLIENT_", "CLIENT_CLIENT_SECRET", id="client"),
]


@pytest.mark.parametrize(("app", "prefix", "variable"), SERVICES)
def test_services_refuse_to_start_in_production_with_demo_secrets(
    app: str, prefix: str, variable: str, tmp_path: Any
) -> None:
    """No `*_ENVIRONMENT` at all: production, so the shipped secrets stop the process."""
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
    assert done.returncode != 0
    assert variable in done.stderr
    assert "demo-secret" not in done.stderr
    assert "Application startup complete" not in done.stderr
