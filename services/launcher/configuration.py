"""The demo's three services as the launcher starts them: ports, public URLs, SQLite files
and the environment that makes the authorization server, the resource server and
Dropletbook agree on each other's URLs and the demo secrets."""

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from services.authorization_server.demo import (
    FEED_CLIENT_ID,
    IMPLICIT_CLIENT_ID,
    SERVICE_CLIENT_ID,
    TRUSTED_CLIENT_ID,
    DemoSettings,
)
from shared.http import public_url
from shared.settings import DEVELOPMENT

DEFAULT_PORTS = "8000,8001,8080"


@dataclass(frozen=True)
class Service:
    name: str
    prefix: str
    app: str
    port: int
    env: dict[str, str]
    access_log: bool = True

    def url(self, host: str) -> str:
        return public_url(host, self.port)


def parse_ports(value: str) -> tuple[int, int, int]:
    try:
        ports = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("ports must be three numbers: AS,RS,CLIENT") from None
    if len(ports) != 3 or len(set(ports)) != 3 or not all(0 < p < 65536 for p in ports):
        raise argparse.ArgumentTypeError("ports must be three different numbers: AS,RS,CLIENT")
    return ports[0], ports[1], ports[2]


def build_services(host: str, ports: tuple[int, int, int], data_dir: Path) -> list[Service]:
    """Each service's environment: public URLs on `host`, SQLite files in `data_dir`."""
    as_url, rs_url, client_url = (public_url(host, port) for port in ports)
    demo = DemoSettings()  # AS_DEMO_* from the environment, else the documented defaults
    data = data_dir.resolve()
    auth_env = {
        "AS_ENVIRONMENT": DEVELOPMENT,
        "AS_ISSUER": as_url,
        "AS_RESOURCE_AUDIENCE": rs_url,
        "AS_DATABASE_URL": f"sqlite:///{data / 'authorization_server.db'}",
        "AS_REVOCATION_FEED_CLIENTS": f'["{FEED_CLIENT_ID}"]',
        "AS_DEMO_CLIENT_URL": client_url,
    }
    api_env = {
        "RS_ENVIRONMENT": DEVELOPMENT,
        "RS_ISSUER": as_url,
        "RS_AUDIENCE": rs_url,
        "RS_DATABASE_URL": f"sqlite:///{data / 'resource_server.db'}",
        "RS_FEED_CLIENT_ID": FEED_CLIENT_ID,
        "RS_FEED_CLIENT_SECRET": demo.feed_client_secret.get_secret_value(),
    }
    client_env = {
        "CLIENT_ENVIRONMENT": DEVELOPMENT,
        "CLIENT_PUBLIC_URL": client_url,
        "CLIENT_ISSUER": as_url,
        "CLIENT_RS_URL": rs_url,
        "CLIENT_DATABASE_URL": f"sqlite:///{data / 'demo_client.db'}",
        "CLIENT_CLIENT_SECRET": demo.client_secret.get_secret_value(),
        "CLIENT_IMPLICIT_CLIENT_ID": IMPLICIT_CLIENT_ID,
        "CLIENT_TRUSTED_CLIENT_ID": TRUSTED_CLIENT_ID,
        "CLIENT_TRUSTED_CLIENT_SECRET": demo.trusted_client_secret.get_secret_value(),
        "CLIENT_SERVICE_CLIENT_ID": SERVICE_CLIENT_ID,
        "CLIENT_SERVICE_CLIENT_SECRET": demo.service_client_secret.get_secret_value(),
    }
    if "AS_DEMO_USER_EMAIL" in os.environ:
        client_env["CLIENT_DEMO_USER_EMAIL"] = os.environ["AS_DEMO_USER_EMAIL"]
    return [
        Service("authorization-server", "auth  ", "services.authorization_server.main:app",
                ports[0], auth_env),
        Service("resource-server", "api   ", "services.resource_server.main:app",
                ports[1], api_env),
        # Off for the client: its callback URL carries the authorization code.
        Service("demo-client", "client", "services.demo_client.main:app",
                ports[2], client_env, access_log=False),
    ]  # fmt: skip
