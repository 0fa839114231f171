"""Resource server settings: the guards that keep a deployment safe."""

import pytest
from pydantic import ValidationError

from services.resource_server.settings import Settings
from tests.factories import STRONG_SECRET


def test_defaults_match_the_local_setup() -> None:
    settings = Settings(environment="development")
    assert settings.issuer == "http://127.0.0.1:8000"
    assert settings.audience == "http://127.0.0.1:8001"
    assert settings.revocation_poll_interval == 5.0
    assert settings.algorithms == ("ES256", "RS256")


@pytest.mark.parametrize("algorithms", [("HS256",), ("none",), ("ES256", "HS512"), ()])
def test_only_asymmetric_algorithms(algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError, match="subset"):
        Settings(environment="development", algorithms=algorithms)


def test_production_requires_the_revocation_feed() -> None:
    urls = {
        "issuer": "https://as.example",
        "audience": "https://api.example",
        "database_url": "postgresql://rs@db.example/rs",
    }
    with pytest.raises(ValidationError, match="RS_FEED_CLIENT_SECRET must be set"):
        Settings(environment="production", **urls)
    with pytest.raises(ValidationError, match="RS_FEED_CLIENT_ID"):
        Settings(environment="production", feed_client_secret=STRONG_SECRET, **urls)
    settings = Settings(
        environment="staging", feed_client_id="rs", feed_client_secret=STRONG_SECRET, **urls
    )
    assert settings.feed_client_secret is not None
    with pytest.raises(ValidationError, match="RS_FEED_CLIENT_ID"):  # not only "production"
        Settings(environment="staging", feed_client_secret=STRONG_SECRET, **urls)


def test_trailing_slashes_are_dropped() -> None:
    settings = Settings(
        environment="development",
        issuer="https://auth.example/",
        audience="https://api.example/",
        internal_issuer_url="http://as:8000/",
    )
    assert (settings.issuer, settings.audience, settings.internal_issuer_url) == (
        "https://auth.example",
        "https://api.example",
        "http://as:8000",
    )


def test_max_revocation_age_is_off_by_default_and_needs_the_feed() -> None:
    assert Settings(environment="development").max_revocation_age is None
    with pytest.raises(ValidationError, match="RS_MAX_REVOCATION_AGE needs RS_FEED_CLIENT_ID"):
        Settings(environment="development", max_revocation_age=30)
    feed = {"feed_client_id": "rs", "feed_client_secret": "s" * 43}
    with pytest.raises(ValidationError, match="must exceed RS_REVOCATION_POLL_INTERVAL"):
        Settings(environment="development", max_revocation_age=5, **feed)
    assert Settings(environment="development", max_revocation_age=30, **feed).max_revocation_age
