"""Test data with explicit keyword arguments and safe defaults."""

import json
from typing import Any

from pydantic import SecretStr
from sqlmodel import Session

from services.authorization_server.authorize import AuthorizationRequest
from services.authorization_server.context import ServerContext
from services.authorization_server.grants.authorization_code import issue_code
from services.authorization_server.models import Client, User
from services.authorization_server.pkce import s256_challenge
from services.authorization_server.registration import register_client
from services.authorization_server.settings import Settings
from services.authorization_server.users import create_user

PASSWORD = "correct horse battery"


LOOSE_THROTTLE: dict[str, Any] = {
    "throttle_account_failures": 10_000,
    "throttle_device_failures": 10_000,
    "throttle_client_failures": 10_000,
    "throttle_ip_failures": 10_000,
    "throttle_signup_ip_rate": "10000/hour",
    "throttle_signup_email_rate": "10000/hour",
    "throttle_registration_ip_rate": "10000/hour",
    "throttle_registration_token_rate": "10000/hour",
}


def test_settings(database_url: str, **overrides: Any) -> Settings:
    """Fast, deterministic settings: cheap argon2 parameters, no client cache surprises."""
    values: dict[str, Any] = {
        "environment": "development",
        "database_url": database_url,
        "issuer": "http://127.0.0.1:8000",
        "secret_key": SecretStr("test-secret-key"),
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 64,
        "client_cache_ttl": 0.0,
        "key_activation_delay": 0,
        # Tests share one IP (loopback) and repeat failures on purpose: throttling tests
        # (tests/authorization_server/test_throttle*.py) set real limits themselves.
        **LOOSE_THROTTLE,
        **overrides,
    }
    return Settings(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a factory, not a test


def as_environment(settings: Settings) -> dict[str, str]:
    """The same settings as `AS_*` environment variables, for a live server process."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, dict | list):
            value = json.dumps(value, default=SecretStr.get_secret_value)
        env[f"AS_{name.upper()}"] = str(value)
    return env


def make_user(
    context: ServerContext,
    *,
    email: str = "alice@example.com",
    password: str = PASSWORD,
    name: str = "Alice",
) -> User:
    with Session(context.engine, expire_on_commit=False) as session:
        return create_user(
            session, passwords=context.passwords, email=email, password=password, name=name
        )


def make_client(
    context: ServerContext,
    *,
    name: str = "Dropletbook",
    redirect_uris: tuple[str, ...] = ("http://127.0.0.1:8080/callback",),
    client_type: str = "confidential",
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token"),
    scope: str = "read write",
    trusted: bool = False,
    website: str = "https://dropletbook.example",
    owner: User | None = None,
) -> tuple[Client, str | None]:
    """A registered client and its secret (None for public clients)."""
    with Session(context.engine, expire_on_commit=False) as session:
        return register_client(
            session,
            name=name,
            website=website,
            redirect_uris=redirect_uris,
            client_type=client_type,
            grant_types=grant_types,
            scope=scope,
            trusted=trusted,
            owner_id=owner.id if owner else None,
            supported_scopes=context.settings.scopes,
        )


VERIFIER = "v" * 43 + "-verifier._~"
"""A valid RFC 7636 code verifier; `make_auth_code` binds codes to it by default."""


def make_auth_code(
    context: ServerContext,
    *,
    client: Client,
    user: User,
    scope: str = "read",
    redirect_uri: str | None = "http://127.0.0.1:8080/callback",
    code_verifier: str | None = VERIFIER,
    ttl: int | None = None,
) -> str:
    """An authorization code as the consent screen issues it; returns the code itself."""
    request = AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri or client.redirect_uris[0],
        redirect_uri_given=redirect_uri is not None,
        response_type="code",
        scope=scope,
        state=None,
        code_challenge=s256_challenge(code_verifier) if code_verifier else None,
    )
    with Session(context.engine, expire_on_commit=False) as session:
        params = issue_code(
            session,
            user=user,
            request=request,
            ttl=ttl or context.settings.authorization_code_ttl,
        )
        session.commit()
    return params["code"]


# Values that pass the production posture (shared/settings.py): generated, so random-looking.
STRONG_SECRET = "NVk2B16ywHc4CMBdaOmKFtYDUeK-N04FD2xUqYddyxI"  # secrets.token_urlsafe(32)
STRONG_KEK = "/6KlI1XVBR7fnwysa5nnwSSRWTWHu960mGItAM4P4v0="  # openssl rand -base64 32
