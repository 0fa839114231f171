"""The one-command demo's pure parts (services/launcher/); the processes are in e2e/."""

import argparse
import io
from pathlib import Path

import pytest

from services.launcher import banner
from services.launcher.configuration import build_services, parse_ports
from services.launcher.supervision import QUIET_PATHS, Printer


def test_parse_ports() -> None:
    assert parse_ports("8000,8001,8080") == (8000, 8001, 8080)
    for bad in ("8000,8001", "8000,8000,8080", "a,b,c", "0,1,2", "8000,8001,70000"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_ports(bad)


def test_services_agree_on_urls_and_secrets(tmp_path: Path) -> None:
    auth, api, client = build_services("127.0.0.1", (9000, 9001, 9080), tmp_path)
    assert (auth.name, api.name, client.name) == (
        "authorization-server",
        "resource-server",
        "demo-client",
    )
    assert auth.env["AS_ISSUER"] == api.env["RS_ISSUER"] == client.env["CLIENT_ISSUER"]
    assert auth.env["AS_ISSUER"] == "http://127.0.0.1:9000"
    assert auth.env["AS_RESOURCE_AUDIENCE"] == api.env["RS_AUDIENCE"] == "http://127.0.0.1:9001"
    assert auth.env["AS_DEMO_CLIENT_URL"] == client.env["CLIENT_PUBLIC_URL"]
    assert api.env["RS_FEED_CLIENT_ID"] in auth.env["AS_REVOCATION_FEED_CLIENTS"]
    assert client.env["CLIENT_CLIENT_SECRET"] == "dropletbook-demo-secret"
    for service, variable in ((auth, "AS_"), (api, "RS_"), (client, "CLIENT_")):
        url = service.env[f"{variable}DATABASE_URL"]
        assert url.startswith(f"sqlite:///{tmp_path.resolve()}/")
    # The client's access log would show the authorization code in /callback?code=...
    assert not client.access_log


def test_demo_secrets_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AS_DEMO_CLIENT_SECRET", "from-env")
    _, _, client = build_services("127.0.0.1", (9000, 9001, 9080), tmp_path)
    assert client.env["CLIENT_CLIENT_SECRET"] == "from-env"


def test_log_lines_are_prefixed_and_polling_is_quiet() -> None:
    out = io.StringIO()
    source = io.BytesIO(
        b"INFO: started\n"
        b'INFO: 127.0.0.1 - "GET /healthz HTTP/1.1" 200\n'
        b'INFO: 127.0.0.1 - "GET /v1/oauth/revoked-tokens HTTP/1.1" 200\n'
        b"INFO: done\n"
    )
    Printer(out).stream("auth  ", source)
    assert out.getvalue() == "auth   | INFO: started\nauth   | INFO: done\n"
    assert "GET /healthz" in QUIET_PATHS


def test_banner_names_the_url_and_credentials(tmp_path: Path) -> None:
    services = build_services("127.0.0.1", (9000, 9001, 9080), tmp_path)
    text = banner(services, "127.0.0.1")
    assert "http://127.0.0.1:9080" in text
    assert "demo@example.com" in text
    assert "demo-password" in text
    assert "Ctrl-C" in text


def test_banner_says_how_to_see_the_refresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = build_services("127.0.0.1", (9000, 9001, 9080), tmp_path)
    monkeypatch.delenv("AS_ACCESS_TOKEN_TTL", raising=False)
    text = banner(services, "127.0.0.1")
    assert "Access tokens live 3600 s" in text
    assert "AS_ACCESS_TOKEN_TTL=60 make demo" in text
    monkeypatch.setenv("AS_ACCESS_TOKEN_TTL", "60")
    assert "Access tokens live 60 s" in banner(services, "127.0.0.1")


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:9000"),  # noqa: S104 (a listen address)
        ("::", "http://127.0.0.1:9000"),
        ("::1", "http://[::1]:9000"),
        ("localhost", "http://localhost:9000"),
    ],
)
def test_urls_are_reachable_for_any_listen_address(tmp_path: Path, host: str, url: str) -> None:
    auth, api, _ = build_services(host, (9000, 9001, 9080), tmp_path)
    assert auth.url(host) == url
    assert auth.env["AS_ISSUER"] == url
    assert api.env["RS_ISSUER"] == url
