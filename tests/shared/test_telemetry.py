"""FastAPI's OpenTelemetry instrumentation is off unless a service's `*_OPENTELEMETRY` asks."""

from typing import Any

import pytest

from services.authorization_server.main import create_app
from shared.settings import BaseServiceSettings
from shared.telemetry import fastapi_telemetry
from tests.factories import test_settings


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, {"tracing": False, "metrics": False, "logs": False}),
        ({"OPENTELEMETRY": "true"}, {}),
    ],
)
def test_the_setting_decides(
    environ: dict[str, str], expected: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENTELEMETRY", raising=False)  # the base settings have no prefix
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings = BaseServiceSettings(environment="development")
    assert fastapi_telemetry(settings) == expected


@pytest.mark.parametrize("enabled", [False, True])
def test_the_authorization_server_passes_it_to_fastapi(database_url: str, enabled: bool) -> None:
    app = create_app(test_settings(database_url, opentelemetry=enabled))
    telemetry = app._telemetry  # FastAPI's resolved configuration
    assert (telemetry["tracing"], telemetry["metrics"], telemetry["logs"]) == (enabled,) * 3
    app.state.context.engine.dispose()
