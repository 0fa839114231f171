"""Public and internal URLs (settings.py)."""

import pytest
from pydantic import ValidationError

from services.demo_client.settings import Settings
from tests.factories import STRONG_SECRET


def test_internal_urls_default_to_the_public_ones() -> None:
    settings = Settings(
        environment="development", issuer="http://127.0.0.1:8000/", rs_url="http://127.0.0.1:8001"
    )
    assert settings.as_internal_url == "http://127.0.0.1:8000"
    assert settings.rs_internal_url == "http://127.0.0.1:8001"


def test_environment_sets_public_and_internal_urls_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIENT_PUBLIC_URL", "http://localhost:8080")
    monkeypatch.setenv("CLIENT_ISSUER", "http://localhost:8000")
    monkeypatch.setenv("CLIENT_AS_INTERNAL_URL", "http://authorization-server:8000")
    monkeypatch.setenv("CLIENT_ENVIRONMENT", "development")
    settings = Settings()
    assert settings.redirect_uri == "http://localhost:8080/callback"
    assert settings.implicit_redirect_uri == "http://localhost:8080/implicit/callback"
    assert settings.issuer == "http://localhost:8000"
    assert settings.as_internal_url == "http://authorization-server:8000"


def test_production_refuses_the_default_session_encryption_key() -> None:
    values = {
        name: STRONG_SECRET
        for name in ("client_secret", "trusted_client_secret", "service_client_secret")
    }
    values |= {
        "public_url": "https://app.example",
        "issuer": "https://as.example",
        "rs_url": "https://api.example",
        "database_url": "postgresql://client@db.example/client",
    }
    with pytest.raises(ValidationError, match="CLIENT_SESSION_ENCRYPTION_KEY"):
        Settings(environment="production", **values)
    key = STRONG_SECRET[::-1]
    chosen = Settings(environment="production", session_encryption_key=key, **values)
    assert chosen.session_encryption_key.get_secret_value() == key


def test_the_purge_interval_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="session_purge_interval"):
        Settings(environment="development", session_purge_interval=0)
