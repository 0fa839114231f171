"""Public and internal URLs (settings.py)."""

import pytest

from services.demo_client.settings import Settings


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
