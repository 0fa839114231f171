"""FastAPI's native OpenTelemetry instrumentation, on when the operator asks for it.

FastAPI 0.165 traces, measures and logs every request once an OpenTelemetry SDK is set up
(for example by `opentelemetry-instrument`). To find out, it asks the three global
providers on every request: about 6 µs, a tenth of a token request's CPU
(`bench/in_process.py --layers`). So each service turns it off unless its `*_OPENTELEMETRY`
setting is true.
"""

from fastapi.telemetry import TelemetryConfig

from shared.settings import BaseServiceSettings


def fastapi_telemetry(settings: BaseServiceSettings) -> TelemetryConfig:
    """`FastAPI(telemetry=...)` for the service's settings."""
    if settings.opentelemetry:
        return {}
    return {"tracing": False, "metrics": False, "logs": False}
