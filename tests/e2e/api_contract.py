"""schemathesis over a live service: its OpenAPI document must say what it really answers.

Each case runs every check schemathesis has (status codes, content types, headers, response
schemas, `Allow` on 405, undeclared methods, ignored or missing credentials, negative data
rejected) except `positive_data_acceptance`: schema-valid data is refused on purpose where
the document cannot say why (an unknown `client_id`, a stale CSRF token, a rate limit).
Credentials go with the operations whose `security` names them (an auth provider, so that
cases testing a missing credential are sent without it), and the checks reach past the 401s.
"""

import base64
from dataclasses import dataclass
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance

from services.authorization_server.demo import DemoSettings
from tests.e2e.walk import Stack

# Bounded so that a service runs in well under a minute on a busy 2-core machine.
MAX_EXAMPLES = 20
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # nothing written to the working tree
    suppress_health_check=list(HealthCheck),
)
EXCLUDED_CHECKS = [positive_data_acceptance]


def load_schema(base_url: str, credentials: "Credentials | None" = None) -> Any:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    if credentials is not None:
        schema.auth(refresh_interval=None)(credentials.provider())
    return schema


@dataclass(frozen=True)
class Credentials:
    """What to send for each security scheme an operation names."""

    bearer: str | None = None
    basic: tuple[str, str] | None = None

    def headers_for(self, case: Case) -> dict[str, str]:
        schemes = {name for item in _security(case) for name in item}
        if "bearer" in schemes and self.bearer:
            return {"Authorization": f"Bearer {self.bearer}"}
        if "clientBasic" in schemes and self.basic:
            pair = base64.b64encode(":".join(self.basic).encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        return {}

    def provider(self) -> type:
        credentials = self

        class Provider:
            def get(self, case: Case, context: Any) -> "Credentials":
                return credentials

            def set(self, case: Case, data: "Credentials", context: Any) -> None:
                case.headers = {**(case.headers or {}), **data.headers_for(case)}

        return Provider


def _security(case: Case) -> list[dict[str, Any]]:
    raw: dict[str, Any] = case.operation.definition.raw
    return list(raw.get("security") or [])


def check(case: Case) -> None:
    """Call the live service with `case` and run the checks on the answer."""
    case.call_and_validate(excluded_checks=EXCLUDED_CHECKS, timeout=30)


def demo_token(stack: Stack, *, client_id: str, secret: str, form: dict[str, str]) -> str:
    response = httpx.post(f"{stack.auth}/v1/oauth/token", data=form, auth=(client_id, secret))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


DEMO = DemoSettings()
