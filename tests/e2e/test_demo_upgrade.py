"""`dropletbook-demo` (`make demo`) on a `./data` made by release a846f3e: the databases are
upgraded at start, and the old data works (its signing key signs, its users, clients and
droplets answer)."""

import signal
from pathlib import Path

import httpx
import jwt
import pytest

from shared.db import make_engine
from tests import legacy_databases as legacy
from tests.e2e.test_demo_command import READY, run_demo, stop
from tests.harness.servers import free_port

pytestmark = pytest.mark.e2e


def make_a846f3e_data(data_dir: Path) -> legacy.LegacyAuthorizationServer:
    data_dir.mkdir()
    seeded = None
    for package in legacy.SERVICES:
        engine = make_engine(f"sqlite:///{data_dir / f'{package}.db'}")
        try:
            legacy.create_schema(engine, package)
            if package == "authorization_server":
                seeded = legacy.seed_authorization_server(engine)
            else:
                getattr(legacy, f"seed_{package}")(engine)
        finally:
            engine.dispose()
    assert seeded is not None
    return seeded


def test_demo_upgrades_a846f3e_data(tmp_path: Path) -> None:
    old = make_a846f3e_data(tmp_path / "data")
    ports = (free_port(), free_port(), free_port())
    auth, api, client = (f"http://127.0.0.1:{port}" for port in ports)

    with run_demo(ports, tmp_path / "data", tmp_path / "demo.log") as demo:
        text = demo.wait_for(READY)
        assert "made before migrations: at revision 0001" in text
        jwks = httpx.get(f"{auth}/.well-known/jwks.json").json()
        # The old key still signs access tokens; OpenID Connect adds an RS256 chain for ID tokens.
        by_type = {key["kty"]: key["kid"] for key in jwks["keys"]}
        assert len(jwks["keys"]) == 2 and by_type["EC"] == old.kid and "RSA" in by_type
        answer = httpx.post(
            f"{auth}/v1/oauth/token",
            data={
                "grant_type": "password",
                "username": old.email,
                "password": old.password,
                "scope": "read",
            },
            auth=(old.client_id, old.client_secret),
        )
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        assert jwt.get_unverified_header(token)["kid"] == old.kid
        droplets = httpx.get(f"{api}/v2/droplets", headers={"Authorization": f"Bearer {token}"})
        assert droplets.status_code == 200, droplets.text
        names = [d["name"] for d in droplets.json()["droplets"]]
        assert names == ["legacy-1", "legacy-2", "legacy-3"]
        assert httpx.get(f"{client}/").status_code == 200
        stop(demo, signal.SIGINT)
