"""compose.yaml and the Dockerfile, checked without a container engine (tests/compose runs
`docker compose up` for real where there is one).

The file is validated by `docker compose config` where that CLI exists and always by a check
of its structure; then the three services are started as local processes from the production
dependency set (the image's, tests/e2e/production_environment.py), outside the source tree,
with exactly the command and environment compose.yaml gives them, the compose hosts mapped
to loopback and PostgreSQL at 127.0.0.1:5432, and the tutorial's walk runs against them.
"""

import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from tests.databases import TestDatabases
from tests.e2e.walk import SCREENSHOTS, Stack, chromium, walk_tutorial
from tests.harness.servers import ROOT, free_port

pytestmark = pytest.mark.e2e

COMPOSE = ROOT / "compose.yaml"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
APPS = {"authorization-server": 8000, "resource-server": 8001, "demo-client": 8080}
_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `${VAR:?error}`."""

    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        value = env.get(name)
        if operator in (":-", ":?") and value == "":
            value = None
        if value is not None:
            return value
        if operator and operator.endswith("?"):
            raise AssertionError(f"compose needs ${name}: {argument}")
        return argument or ""

    return _VARIABLE.sub(replace, value)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def environment(service: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    raw = compose()["services"][service].get("environment", {})
    return {name: interpolate(str(value), env or {}) for name, value in raw.items()}


def test_compose_file_is_valid() -> None:
    if (
        shutil.which("docker")
        and subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        result = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    spec = compose()
    services = spec["services"]
    assert set(services) == {"postgres", "redis", "mailpit", *APPS}
    for name in APPS:
        assert services[name]["build"] == "."
        assert services[name]["image"] == services["demo-client"]["image"]
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] == "CMD", name
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services
            assert condition == {"condition": "service_healthy"}, (name, dependency)
    assert set(services["authorization-server"]["depends_on"]) == {"postgres", "redis", "mailpit"}
    auth = environment("authorization-server")
    assert auth["AS_REDIS_URL"] == "redis://redis:6379/0"
    assert (auth["AS_SMTP_HOST"], auth["AS_SMTP_PORT"]) == ("mailpit", "1025")
    assert services["mailpit"]["ports"] == ["127.0.0.1:8025:8025"]
    assert set(services["resource-server"]["depends_on"]) == {"postgres", "authorization-server"}
    assert set(services["demo-client"]["depends_on"]) == {"authorization-server", "resource-server"}
    for name, port in APPS.items():
        command = services[name]["command"]
        assert command[command.index("--port") + 1] == str(port)
        assert services[name]["ports"] == [f"127.0.0.1:{port}:{port}"]
        assert f"http://127.0.0.1:{port}/healthz" in services[name]["healthcheck"]["test"][-1]
    init_sql = spec["configs"]["create-databases"]["content"]
    for variable, service in (
        ("AS_DATABASE_URL", "authorization-server"),
        ("RS_DATABASE_URL", "resource-server"),
        ("CLIENT_DATABASE_URL", "demo-client"),
    ):
        url = urlsplit(environment(service)[variable])
        assert (url.scheme, url.hostname, url.port) == ("postgresql", "postgres", 5432)
        assert f"CREATE DATABASE {url.path.lstrip('/')};" in init_sql


def test_browser_urls_are_public_and_back_channel_urls_internal() -> None:
    auth = environment("authorization-server")
    api = environment("resource-server")
    client = environment("demo-client")
    issuer, audience, app = (
        "http://127.0.0.1:8000",
        "http://127.0.0.1:8001",
        "http://127.0.0.1:8080",
    )
    assert auth["AS_ISSUER"] == api["RS_ISSUER"] == client["CLIENT_ISSUER"] == issuer
    assert auth["AS_RESOURCE_AUDIENCE"] == api["RS_AUDIENCE"] == client["CLIENT_RS_URL"] == audience
    assert auth["AS_DEMO_CLIENT_URL"] == client["CLIENT_PUBLIC_URL"] == app
    assert api["RS_INTERNAL_ISSUER_URL"] == "http://authorization-server:8000"
    assert client["CLIENT_AS_INTERNAL_URL"] == "http://authorization-server:8000"
    assert client["CLIENT_RS_INTERNAL_URL"] == "http://resource-server:8001"
    # The secrets each side holds are the ones the authorization server seeds.
    assert auth["AS_DEMO_CLIENT_SECRET"] == client["CLIENT_CLIENT_SECRET"]
    assert auth["AS_DEMO_TRUSTED_CLIENT_SECRET"] == client["CLIENT_TRUSTED_CLIENT_SECRET"]
    assert auth["AS_DEMO_SERVICE_CLIENT_SECRET"] == client["CLIENT_SERVICE_CLIENT_SECRET"]
    assert auth["AS_DEMO_FEED_CLIENT_SECRET"] == api["RS_FEED_CLIENT_SECRET"]
    assert api["RS_FEED_CLIENT_ID"] in auth["AS_REVOCATION_FEED_CLIENTS"]
    overridden = environment("demo-client", {"DROPLETBOOK_CLIENT_SECRET": "s3cret"})
    assert overridden["CLIENT_CLIENT_SECRET"] == "s3cret"


def test_dockerfile_runtime_stage_is_non_root_without_build_tools() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    runtime = dockerfile.rsplit("\nFROM ", 1)[1]
    user = re.findall(r"^USER (\S+)", runtime, flags=re.MULTILINE)
    assert user and user[-1] not in ("root", "0")
    for tool in ("apt-get", "pip install", "uv ", "gcc", "build-essential"):
        assert tool not in runtime
    assert "COPY --from=build /app/.venv /app/.venv" in runtime
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "data", "tests", "artifacts"} <= set(ignored)


class ComposeProcess:
    """One compose service run here: its command and environment, hosts mapped to loopback."""

    def __init__(
        self, name: str, command: list[str], env: dict[str, str], bin_dir: Path, log: Path
    ) -> None:
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(bin_dir / command[0]), *command[1:]],
                cwd=log.parent,  # like the image's working directory: not the source tree
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.name = name
        self.log = log

    def wait_healthy(self, url: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.name} not healthy:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def compose_stack(tmp_path: Path, production_bin: Path) -> Iterator[Stack]:
    ports = {name: free_port() for name in APPS}
    hosts = {}
    for name, port in APPS.items():
        hosts[f"{name}:{port}"] = f"127.0.0.1:{ports[name]}"
        hosts[f"127.0.0.1:{port}"] = f"127.0.0.1:{ports[name]}"
    hosts["redis:6379"] = "127.0.0.1:6379"  # the machine's Redis, under a prefix of our own
    databases = TestDatabases(POSTGRES, tmp_path)
    spec = compose()
    processes: list[ComposeProcess] = []
    try:
        for name in APPS:
            env = environment(name)
            for variable, value in env.items():
                if value.startswith("postgresql://"):
                    env[variable] = databases.new_url(name.replace("-", "_"))
                    continue
                for host, loopback in hosts.items():
                    value = value.replace(host, loopback)
                env[variable] = value
            if name == "authorization-server":
                env["AS_THROTTLE_KEY_PREFIX"] = f"compose-test-{uuid.uuid4().hex}"
            command = [
                "127.0.0.1" if part == "0.0.0.0" else part  # noqa: S104 (compose binds all)
                for part in spec["services"][name]["command"]
            ]
            command[command.index("--port") + 1] = str(ports[name])
            process = ComposeProcess(name, command, env, production_bin, tmp_path / f"{name}.log")
            processes.append(process)
            url = f"http://127.0.0.1:{ports[name]}"
            process.wait_healthy(url)
            # The compose healthcheck itself passes against the running service.
            check = spec["services"][name]["healthcheck"]["test"][1:]
            check = [part.replace(f"127.0.0.1:{APPS[name]}", url.split("//")[1]) for part in check]
            check[0] = str(production_bin / "python")
            assert subprocess.run(check, check=False, timeout=30).returncode == 0
        yield Stack(
            client=f"http://127.0.0.1:{ports['demo-client']}",
            auth=f"http://127.0.0.1:{ports['authorization-server']}",
            api=f"http://127.0.0.1:{ports['resource-server']}",
        )
    finally:
        for process in reversed(processes):
            process.stop()
        databases.drop_all()


def test_services_run_with_the_compose_environment_on_postgresql(compose_stack: Stack) -> None:
    # One host for the demo: opened on `localhost`, Dropletbook and Droplet Cloud send the
    # browser to their public URL on 127.0.0.1, where the flow's cookies are.
    for public in (compose_stack.client, compose_stack.auth):
        port = urlsplit(public).port
        response = httpx.get(f"http://localhost:{port}/login?next=%2F", timeout=10)
        assert response.status_code == 307
        assert response.headers["location"] == f"{public}/login?next=%2F"
    with chromium() as browser:
        walk_tutorial(browser, compose_stack, SCREENSHOTS / "compose-environment")
