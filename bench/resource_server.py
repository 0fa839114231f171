"""Resource server throughput: `GET /v2/account` (bearer JWT) against `GET /healthz`.

Run with `.venv/bin/python bench/resource_server.py` (`--help` for options). The script:

1. creates temporary SQLite databases and seeds the authorization server with a confidential
   client for the `client_credentials` grant and the resource server's feed client;
2. starts both services as separate uvicorn processes (one worker each, uvloop, httptools, no
   access log), the resource server configured like production: JWKS discovery from the
   authorization server, the revocation feed polled every 5 s, default caches;
3. gets a real access token from the token endpoint and checks that `/v2/account` accepts it
   and refuses a tampered copy (401 `invalid_token`) before measuring anything;
4. warms up, then runs `wrk` for `--rounds` rounds, each a fixed `--duration` of
   `GET /healthz` followed by the same duration of `GET /v2/account` on the same process;
5. prints requests/s, p50 and p99 for every run, the per-round ratio account/healthz, their
   median, and whether the goal (ratio >= 0.70) is met.

The authenticated route verifies the JWT fully once (ES256 signature, `typ`, `iss`, `aud`,
`exp`, `nbf`, `iat`); repeat requests with the same token hit the verified-token cache, which
still checks expiry, the revoked set and that the signing key is published, on every request.
The load generator shares the machine, so wrk runs one thread and 16 connections; rounds
alternate the two endpoints so that a busy spell on the machine hits both, and the median of
the per-round ratios is reported. The script exits non-zero if any request failed, not on the
ratio: the ratio depends on the machine.
"""

import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import httpx
from sqlmodel import Session
from wrk_driver import (
    DONE_HOOK,
    HEALTHZ_PATH,
    BenchError,
    Credentials,
    Run,
    exit_status,
    free_port,
    interrupt_on_signals,
    measure_rounds,
    parse_args,
    reporting_failures,
    uvicorn_server,
)

from services.authorization_server.context import ServerContext
from services.authorization_server.db import create_tables, make_engine
from services.authorization_server.registration import register_client
from services.authorization_server.settings import Settings as AuthorizationSettings

GOAL = 0.70
ACCOUNT_PATH = "/v2/account"


def main() -> int:
    args = parse_args(__doc__.split("\n", 1)[0], endpoint="account", rounds=5)
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk not found: install it (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2
    interrupt_on_signals()
    with tempfile.TemporaryDirectory(prefix="dropletbook-rs-bench-") as tmp:
        workdir = Path(tmp)
        as_port, rs_port = free_port(), free_port()
        issuer, audience = f"http://127.0.0.1:{as_port}", f"http://127.0.0.1:{rs_port}"
        as_db = f"sqlite:///{workdir / 'as.db'}"
        app, feed = seed_clients(as_db, issuer, audience)
        as_env = {
            "AS_DATABASE_URL": as_db,
            "AS_ISSUER": issuer,
            "AS_RESOURCE_AUDIENCE": audience,
            "AS_ENVIRONMENT": "development",
            "AS_LOG_LEVEL": "WARNING",
            "AS_REVOCATION_FEED_CLIENTS": json.dumps([feed.client_id]),
        }
        rs_env = {
            "RS_DATABASE_URL": f"sqlite:///{workdir / 'rs.db'}",
            "RS_ISSUER": issuer,
            "RS_AUDIENCE": audience,
            "RS_ENVIRONMENT": "development",
            "RS_LOG_LEVEL": "WARNING",
            "RS_FEED_CLIENT_ID": feed.client_id,
            "RS_FEED_CLIENT_SECRET": feed.client_secret,
        }
        logs = workdir / "servers.log"

        def work() -> int:
            with (
                uvicorn_server("services.authorization_server.main:app", as_port, as_env, logs),
                uvicorn_server("services.resource_server.main:app", rs_port, rs_env, logs) as rs,
            ):
                token = _token(issuer, app)
                _check(rs.url, token)
                scripts = _write_scripts(workdir, token)
                runs = measure_rounds(args, wrk, rs, scripts, ACCOUNT_PATH, "account")
                _print_summary(runs)
                return exit_status(runs)

        return reporting_failures(work, logs)


def _print_summary(runs: list[tuple[Run, Run]]) -> None:
    print()
    header = f"{'run':<10}{'endpoint':<14}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
    print(header + f"{'CPU us/req':>12}{'non-2xx':>9}{'socket':>8}")
    print("-" * (len(header) + 29))
    for number, pair in enumerate(runs, start=1):
        for run in pair:
            print(
                f"{'round ' + str(number):<10}{run.endpoint:<14}{run.per_second:>10.0f}"
                f"{run.p50_ms:>9.2f}{run.p99_ms:>9.2f}{(run.server_cpu_us or 0):>12.0f}"
                f"{run.status_errors:>9}{run.socket_errors:>8}"
            )
    ratio = statistics.median(account.per_second / health.per_second for health, account in runs)
    print()
    for label, index in (("healthz", 0), ("account", 1)):
        rate = statistics.median(pair[index].per_second for pair in runs)
        p50 = statistics.median(pair[index].p50_ms for pair in runs)
        p99 = statistics.median(pair[index].p99_ms for pair in runs)
        print(f"{label + ':':<10}{rate:8.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms (medians)")
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"ratio:    {ratio:.3f} account/healthz (median per round; goal >= {GOAL}: {verdict})")
    # Server CPU per request is what the endpoint costs, whatever else runs on the machine.
    cpu = [statistics.median(pair[i].server_cpu_us or 0 for pair in runs) for i in (0, 1)]
    print(
        f"CPU:      healthz {cpu[0]:.0f} us/req, account {cpu[1]:.0f} us/req of server CPU; "
        f"capacity ratio {cpu[0] / cpu[1]:.3f} (less sensitive to other load)"
    )


def _write_scripts(workdir: Path, token: str) -> dict[str, Path]:
    account = workdir / "account.lua"
    account.write_text(
        f'wrk.headers["Authorization"] = {json.dumps("Bearer " + token)}\n' + DONE_HOOK
    )
    health = workdir / "healthz.lua"
    health.write_text(DONE_HOOK)
    return {ACCOUNT_PATH: account, HEALTHZ_PATH: health}


def seed_clients(database_url: str, issuer: str, audience: str) -> tuple[Credentials, Credentials]:
    """The app whose token is measured, and the resource server's feed client."""
    settings = AuthorizationSettings(
        environment="development",
        database_url=database_url,
        issuer=issuer,
        resource_audience=audience,
    )
    context = ServerContext.build(settings, make_engine(database_url))
    credentials: list[Credentials] = []
    try:
        create_tables(context.engine)
        context.keys.ensure_key()
        for name in ("Bench app", "Droplet Cloud API"):
            with Session(context.engine, expire_on_commit=False) as session:
                client, secret = register_client(
                    session,
                    name=name,
                    grant_types=("client_credentials",),
                    scope="read write",
                    supported_scopes=settings.scopes,
                )
            assert secret is not None
            credentials.append(Credentials(client.client_id, secret))
    finally:
        context.engine.dispose()
    return credentials[0], credentials[1]


def _token(issuer: str, app: Credentials) -> str:
    response = httpx.post(
        issuer + "/v1/oauth/token",
        data={"grant_type": "client_credentials", "scope": "read"},
        headers={"Authorization": app.authorization},
    )
    if response.status_code != 200:
        raise BenchError(f"token request failed: {response.status_code} {response.text}")
    token: str = response.json()["access_token"]
    return token


def _check(rs_url: str, token: str) -> None:
    """The token works, and a tampered copy is refused, before anything is measured."""
    good = httpx.get(rs_url + ACCOUNT_PATH, headers={"Authorization": f"Bearer {token}"})
    if good.status_code != 200 or good.json()["account"]["kind"] != "service":
        raise BenchError(f"account request failed: {good.status_code} {good.text}")
    header, payload, signature = token.split(".")
    tampered = (
        f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    )
    bad = httpx.get(rs_url + ACCOUNT_PATH, headers={"Authorization": f"Bearer {tampered}"})
    if bad.status_code != 401 or bad.json().get("error") != "invalid_token":
        raise BenchError(f"tampered token not refused: {bad.status_code} {bad.text}")
    print("token check: accepted by /v2/account; a tampered copy gets 401 invalid_token")


if __name__ == "__main__":
    sys.exit(main())
