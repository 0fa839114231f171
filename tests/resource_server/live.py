"""Both servers as real uvicorn processes, seeded over their databases, for live tests."""

import base64
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from services.authorization_server.context import ServerContext
from services.authorization_server.models import Client
from shared.jwt import SigningKey
from tests.databases import TestDatabases
from tests.factories import as_environment, make_client, test_settings
from tests.harness.authorization_server import close_context, open_context
from tests.harness.servers import LiveServer, free_port


@dataclass
class Stack:
    authorization: LiveServer
    resource: LiveServer
    context: ServerContext  # on the authorization server's database, for seeding
    database_url: str
    rs_env: dict[str, str]
    apps: dict[str, tuple[Client, str]] = field(default_factory=dict)

    def signing_key(self) -> SigningKey:
        """The authorization server's current private key, to sign test tokens it never made."""
        self.context.keys.reload()
        return self.context.keys.signing_key()

    def token(self, form: dict[str, str], client: Client, secret: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.authorization.url}/v1/oauth/token", data=form, auth=(client.client_id, secret)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def token_endpoint_post(
        self, path: str, form: dict[str, str], client: Client, secret: str
    ) -> httpx.Response:
        return httpx.post(
            f"{self.authorization.url}{path}", data=form, auth=(client.client_id, secret)
        )

    def api(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(method, f"{self.resource.url}{path}", headers=headers, **kwargs)

    def stop(self) -> None:
        self.resource.stop()
        self.authorization.stop()
        close_context(self.context)


def start_stack(
    databases: TestDatabases,
    logs: Path,
    name: str,
    *,
    as_overrides: dict[str, Any] | None = None,
    rs_overrides: dict[str, str] | None = None,
    internal_url: "CountingProxy | None" = None,
) -> Stack:
    """An authorization server whose feed the resource server reads, both started."""
    as_port, rs_port = free_port(), free_port()
    as_url, rs_url = f"http://127.0.0.1:{as_port}", f"http://127.0.0.1:{rs_port}"
    database_url = databases.new_url("as")
    seed_settings = test_settings(database_url, issuer=as_url, resource_audience=rs_url)
    context = open_context(seed_settings, prepare=True)
    feed, feed_secret = make_client(
        context, name="Droplet Cloud API", grant_types=("client_credentials",), redirect_uris=()
    )
    assert feed_secret is not None
    settings = test_settings(
        database_url,
        issuer=as_url,
        resource_audience=rs_url,
        revocation_feed_clients=[feed.client_id],
        **(as_overrides or {}),
    )
    authorization = LiveServer(
        "services.authorization_server.main:app",
        as_environment(settings),
        port=as_port,
        log=logs / f"as-{name}.log",
    ).start()
    if internal_url is not None:
        internal_url.target = as_url
    rs_env = {
        "RS_ENVIRONMENT": "development",
        "RS_ISSUER": as_url,
        "RS_AUDIENCE": rs_url,
        "RS_DATABASE_URL": databases.new_url("rs"),
        "RS_FEED_CLIENT_ID": feed.client_id,
        "RS_FEED_CLIENT_SECRET": feed_secret,
        "RS_REVOCATION_POLL_INTERVAL": "1",
        **({"RS_INTERNAL_ISSUER_URL": internal_url.url} if internal_url else {}),
        **(rs_overrides or {}),
    }
    try:
        resource = LiveServer(
            "services.resource_server.main:app", rs_env, port=rs_port, log=logs / f"rs-{name}.log"
        ).start()
    except Exception:
        authorization.stop()
        raise
    return Stack(authorization, resource, context, database_url, rs_env)


class CountingProxy:
    """A forwarding HTTP proxy in a thread, counting the paths the resource server fetches."""

    def __init__(self) -> None:
        self.target = ""
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with proxy._lock:
                    proxy.hits[self.path.split("?", 1)[0]] += 1
                forwarded = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("authorization", "accept")
                }
                try:
                    upstream = httpx.get(proxy.target + self.path, headers=forwarded, timeout=10)
                except httpx.HTTPError:
                    self.send_error(502)
                    return
                body = upstream.content
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", upstream.headers.get("content-type", "text/plain"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def count(self, path: str) -> int:
        with self._lock:
            return self.hits[path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def kid_of(token: str) -> str:
    header = token.split(".", 1)[0]
    decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    kid: str = decoded["kid"]
    return kid


def wait_for(condition: Any, *, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())
