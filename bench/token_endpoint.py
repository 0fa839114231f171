"""Token endpoint throughput: client-credentials tokens/s against the same process's /healthz.

Run with `make bench` (or `.venv/bin/python bench/token_endpoint.py --help`). The script:

1. creates a temporary SQLite database and seeds one confidential client that may use the
   `client_credentials` grant (through the server's own registration code);
2. starts `uvicorn services.authorization_server.main:app` as a separate process: one worker,
   a free loopback port, production settings except `AS_ENVIRONMENT=development` (default client
   cache TTL, default key and token settings). No access log: it would add the same cost to both
   endpoints and flatter the ratio. `--loop=uvloop --http=httptools` are what uvicorn's
   `auto` picks when `uvicorn[standard]` is installed; they are named here so a missing
   extra fails loudly instead of quietly measuring the slower pure-Python stack;
3. checks that one token response carries a valid RFC 9068 JWT (signature against the
   published JWKS, `typ`, `iss`, `aud`, `exp`, required claims) before measuring anything;
4. warms up both endpoints, then runs `wrk` for `--rounds` rounds, each a fixed `--duration`
   of `GET /healthz` followed by the same duration of `POST /v1/oauth/token`
   (`grant_type=client_credentials&scope=read`, `client_secret_basic`);
5. prints requests/s, p50, p99, errors and the server's CPU time per request (from /proc) for
   every run, the per-round ratio tokens/s over healthz req/s, their median, and whether the
   goal (ratio >= 0.55) is met.

Why these choices:

- The load generator and the server share the machine (two cores here), so wrk runs one
  thread (`--threads 1`) and a modest number of connections (`--connections 16`): enough to
  keep one Python worker busy, few enough that wrk itself stays a small part of the CPU.
- Healthz is the baseline: a plain FastAPI route in the same process and the same run, so the
  ratio cancels out the machine's speed and whatever else runs on it. (Its cost depends on
  its place in the route table: see bench/README.md.) Rounds alternate the two
  endpoints so a slow spell on the machine hits both; the median ratio is reported. On a busy
  machine the req/s figures swing by tens of percent from run to run; the CPU-per-request
  column moves less and shows where a swing came from.
- wrk's Lua `done()` hook prints the figures in one machine-readable line; `--latency` prints
  wrk's own latency table as well (shown with `--verbose`). No per-response Lua hook is used:
  it would make wrk parse every response and steal CPU from the server. wrk counts a response
  as a status error when its code is 400 or above; neither endpoint ever redirects, so that is
  every non-2xx answer.
- The script exits non-zero if any request failed (status or socket error), not on the ratio:
  the ratio depends on the machine, failures never do.
"""

import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import httpx
from stateful_seed import seed
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

from services.authorization_server.settings import Settings
from shared.errors import InvalidTokenError
from shared.jwt import unverified_header, verification_key, verify_jwt

GOAL = 0.55
TOKEN_PATH = "/v1/oauth/token"  # noqa: S105 (a path, not a secret)
TOKEN_BODY = "grant_type=client_credentials&scope=read"  # noqa: S105 (no secret in it)


def main() -> int:
    args = parse_args(__doc__.split("\n", 1)[0], endpoint="token", rounds=3)
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk not found: install it (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2
    interrupt_on_signals()
    with tempfile.TemporaryDirectory(prefix="dropletbook-bench-") as tmp:
        workdir = Path(tmp)
        database_url = f"sqlite:///{workdir / 'bench.db'}"
        port = free_port()
        issuer = f"http://127.0.0.1:{port}"
        client, _ = seed(database_url, issuer, grant_types=("client_credentials",))
        scripts = _write_scripts(workdir, client)
        log = workdir / "server.log"
        environment = {
            "AS_DATABASE_URL": database_url,
            "AS_ISSUER": issuer,
            "AS_ENVIRONMENT": "development",
            "AS_LOG_LEVEL": "WARNING",
        }

        def work() -> int:
            app = "services.authorization_server.main:app"
            with uvicorn_server(app, port, environment, log) as server:
                _check_token(server.url, client)
                runs = measure_rounds(args, wrk, server, scripts, TOKEN_PATH, "token")
                _print_table(runs)
                return exit_status(runs)

        return reporting_failures(work, log)


def _print_table(runs: list[tuple[Run, Run]]) -> None:
    print()
    header = (
        f"{'run':<9}{'endpoint':<17}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'non-2xx':>8}{'socket':>7}{'cpu us/req':>11}"
    )
    print(header)
    print("-" * len(header))
    for number, pair in enumerate(runs, start=1):
        for run in pair:
            cpu = "n/a" if run.server_cpu_us is None else f"{run.server_cpu_us:.0f}"
            print(
                f"{'round ' + str(number):<9}{run.endpoint:<17}{run.per_second:>8.0f}"
                f"{run.p50_ms:>8.2f}{run.p99_ms:>8.2f}{run.status_errors:>8}"
                f"{run.socket_errors:>7}{cpu:>11}"
            )
    ratio = statistics.median(token.per_second / health.per_second for health, token in runs)
    tokens = statistics.median(token.per_second for _, token in runs)
    health = statistics.median(health.per_second for health, _ in runs)
    p50 = statistics.median(token.p50_ms for _, token in runs)
    p99 = statistics.median(token.p99_ms for _, token in runs)
    errors = sum(h.failed + t.failed for h, t in runs)
    print()
    print(f"healthz:  {health:7.0f} req/s (median of {len(runs)} runs)")
    print(f"tokens:   {tokens:7.0f} tokens/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms (medians)")
    print(f"errors:   {errors} (non-2xx responses + socket errors, all runs)")
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"ratio:    {ratio:.3f} tokens/s per healthz req/s (median of rounds)")
    print(f"goal:     ratio >= {GOAL}: {verdict}")


def _write_scripts(workdir: Path, client: Credentials) -> dict[str, Path]:
    token = workdir / "token.lua"
    token.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(TOKEN_BODY)}\n"
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Authorization"] = {json.dumps(client.authorization)}\n' + DONE_HOOK
    )
    health = workdir / "healthz.lua"
    health.write_text(DONE_HOOK)
    return {TOKEN_PATH: token, HEALTHZ_PATH: health}


def _check_token(base_url: str, client: Credentials) -> None:
    """One real token response must hold a valid RFC 9068 JWT before anything is measured."""
    response = httpx.post(
        base_url + TOKEN_PATH,
        content=TOKEN_BODY,
        headers={
            "Authorization": client.authorization,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    if response.status_code != 200:
        raise BenchError(f"token request failed: {response.status_code} {response.text}")
    if response.headers.get("cache-control") != "no-store":
        raise BenchError("token response lacks Cache-Control: no-store")
    body = response.json()
    if body.get("token_type") != "bearer" or body.get("scope") != "read":
        raise BenchError(f"unexpected token response: {body}")
    jwks = httpx.get(base_url + "/.well-known/jwks.json").json()
    settings = Settings(environment="development")  # defaults: the audience and algorithm
    keys = {
        document["kid"]: verification_key(document, algorithms=(settings.signing_algorithm,))
        for document in jwks["keys"]
        if document.get("alg") == settings.signing_algorithm  # not the ID tokens' RS256 keys
    }
    token = body["access_token"]
    try:
        kid = unverified_header(token).get("kid")
        if kid not in keys:
            raise BenchError(f"token kid {kid!r} is not in the JWKS")
        claims = verify_jwt(
            token, key=keys[kid], issuer=base_url, audience=settings.resource_audience, leeway=0
        )
    except InvalidTokenError as exc:
        raise BenchError(f"the token is not a valid access token: {exc.description}") from None
    if claims["sub"] != client.client_id or claims["client_id"] != client.client_id:
        raise BenchError(f"token issued to the wrong subject: {claims}")
    print(f"token check: valid {settings.signing_algorithm} JWT, kid {kid}, scope read")


if __name__ == "__main__":
    sys.exit(main())
