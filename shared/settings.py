"""Settings shared by every service: environment, logging, and the production secret rules.

The posture fails closed: `development` must be chosen explicitly, anything else is production.
In production each service refuses to start while a secret it lists in `production_secrets`
is unset, equal to its shipped default, a `change-me` placeholder, shorter than listed or
plainly not random (`weak_secret`), while a public URL is not https or the database URL is
left to its default; every problem is named at once, in one message. Cookies are always
`Secure` there.
"""

import ipaddress
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_PREFIX = "change-me"
DEVELOPMENT = "development"
SECRET_MIN_LENGTH = 32
"""Least length of a production secret (the server's own random secrets have 43 characters)."""
SECRET_MIN_DISTINCT = 6
"""Fewest different characters in a production secret. The weakest random secret accepted,
32 hex digits (`openssl rand -hex 16`), has fewer with probability below 1e-12; base64 or
base64url of 32 bytes below 1e-35. So it never refuses a generated secret, and refuses
one repeated character or a short alphabet (`"a" * 34`, `"abab…"`)."""
KEY_MIN_DISTINCT_BYTES = 16
"""Fewest different byte values in a 32-byte random key: a random one has about 30, fewer
than 16 with probability below 1e-16; an all-zero or repeated key has 1."""
SettingsT = TypeVar("SettingsT", bound=BaseSettings)


class SettingsError(Exception):
    """Settings a service cannot start with: one line naming every offending variable."""


class BaseServiceSettings(BaseSettings):
    # Validation errors must never echo their input: it holds the secrets.
    model_config = SettingsConfigDict(extra="ignore", env_file=None, hide_input_in_errors=True)

    production_secrets: ClassVar[Mapping[str, int]] = {}
    """Secret field -> least length, checked in production (0: no length rule, e.g. a mapping)."""

    environment: str = "production"
    """`development` for the demo and the tests; any other value means production."""
    log_level: str = "INFO"
    opentelemetry: bool = False
    """FastAPI's OpenTelemetry instrumentation of every request (`shared.telemetry`)."""
    forwarded_allow_ips: str = ""
    """The reverse proxies (addresses or networks, comma-separated) whose `X-Forwarded-For`
    and `X-Forwarded-Proto` are believed; empty: none (`shared.forwarded`)."""

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        """uvicorn's syntax, but only addresses and networks: `*` and names are refused."""
        names = [part.strip() for part in value.split(",") if part.strip()]
        try:
            return ",".join(str(ipaddress.ip_network(name, strict=False)) for name in names)
        except ValueError:
            raise ValueError("must list IP addresses or networks, comma-separated") from None

    @field_validator("environment")
    @classmethod
    def _normalize_environment(cls, value: str) -> str:
        return value.strip().lower()

    @property
    def is_development(self) -> bool:
        return self.environment == DEVELOPMENT

    @classmethod
    def env_name(cls, field: str) -> str:
        return env_name(cls, field)

    def production_problems(self) -> list[str]:
        """What production refuses, each naming its variable; services add their own."""
        problems = [f"{self.env_name(name)} {problem}" for name, problem in _secret_problems(self)]
        fields = type(self).model_fields
        if "database_url" in fields and "database_url" not in self.model_fields_set:
            problems.append(f"{self.env_name('database_url')} must be set (no default database)")
        return problems

    def https_problems(self, *fields: str) -> list[str]:
        """Public URLs (what browsers and token checks see) must be https in production."""
        return [
            f"{self.env_name(name)} must be an https URL"
            for name in fields
            if getattr(self, name) and not str(getattr(self, name)).startswith("https://")
        ]

    @model_validator(mode="after")
    def _production_posture(self) -> "BaseServiceSettings":
        """Development defaults are fine for the demo, never for production."""
        if self.is_development:
            return self
        problems = self.production_problems()
        if problems:
            posture = f"{self.env_name('environment')}={self.environment}"
            raise ValueError(
                "; ".join(problems) + f" ({posture}: only {DEVELOPMENT} allows demo settings)"
            )
        if "secure_cookies" in type(self).model_fields:  # the services that set cookies
            setattr(self, "secure_cookies", True)  # noqa: B010  (outside development, always)
        return self


def _secret_problems(settings: BaseServiceSettings) -> list[tuple[str, str]]:
    """Each listed secret that fails its rule, and any other secret left as a placeholder."""
    found = []
    fields = type(settings).model_fields
    for name, min_length in settings.production_secrets.items():
        default = fields[name].get_default(call_default_factory=True)
        problem = _problem(getattr(settings, name), default, min_length)
        if problem is not None:
            found.append((name, problem))
    for name, value in settings:
        placeholder = isinstance(value, SecretStr) and value.get_secret_value().startswith(
            PLACEHOLDER_PREFIX
        )
        if placeholder and name not in settings.production_secrets:
            found.append((name, "still has its placeholder value"))
    return found


def _problem(value: Any, default: Any, min_length: int) -> str | None:
    if value is None or value == {} or value == "":
        return "must be set"
    if value == default:
        return "still has its shipped default value"
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        if secret.startswith(PLACEHOLDER_PREFIX):
            return "still has its placeholder value"
        if len(secret) < min_length:
            return f"must have at least {min_length} characters"
        if min_length:
            return weak_secret(secret)
    return None


def weak_secret(secret: str) -> str | None:
    """Why a text secret cannot be random (too few different characters, or a short
    sequence repeated), else None. Sound for any generator's output, not a strength meter:
    a chosen phrase with enough variety passes, so generate secrets (docs/security.md)."""
    if len(set(secret)) < SECRET_MIN_DISTINCT:
        return f"is not random: fewer than {SECRET_MIN_DISTINCT} different characters"
    for period in range(1, len(secret) // 2 + 1):
        if all(secret[i] == secret[i % period] for i in range(len(secret))):
            return "is not random: a short sequence repeated"
    return None


def weak_key(key: bytes) -> str | None:
    """Why a random key (32 bytes) cannot be random, else None (`KEY_MIN_DISTINCT_BYTES`)."""
    if len(set(key)) < KEY_MIN_DISTINCT_BYTES:
        return f"is not random: fewer than {KEY_MIN_DISTINCT_BYTES} different byte values"
    return None


def env_name(settings_class: type[BaseSettings], field: str) -> str:
    """The environment variable of a field, e.g. `AS_SECRET_KEY`."""
    return f"{settings_class.model_config.get('env_prefix', '')}{field}".upper()


def settings_error_message(exc: ValidationError, settings_class: type[BaseSettings]) -> str:
    """One line naming each offending environment variable, without its value."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        field = str(error["loc"][0]) if error["loc"] else ""
        parts.append(f"{env_name(settings_class, field)}: {message}" if field else message)
    return "; ".join(parts)


def load_settings(settings_class: type[SettingsT]) -> SettingsT:
    """The settings from the environment, or `SettingsError` naming every problem at once."""
    try:
        return settings_class()
    except ValidationError as exc:
        message = settings_error_message(exc, settings_class)
        raise SettingsError(f"invalid settings: {message}") from None
