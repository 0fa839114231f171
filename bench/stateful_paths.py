"""Stateful token paths on PostgreSQL: refresh chains, the code exchange, client-credentials
tokens and pgbench's refresh-shaped transaction, in one run (issue 9).

Run with `.venv/bin/python bench/stateful_paths.py [--database URL] [--duration S]`. The
script creates a fresh database beside `--database` (dropped afterwards), seeds one client
and one user, starts one uvicorn process of the authorization server on it (development
settings, `AS_DB_POOL_SIZE` from `--pool-size`), then measures with `wrk`:

- refresh chains at 1 and 16 connections: one wrk thread per connection, each with its own
  chain (a Lua `response()` hook reads each answer's refresh token and sends it next);
- the authorization-code exchange at 16 connections, on codes minted beforehand;
- client-credentials tokens at 16 connections (no database);
- pgbench, 16 clients, a transaction of a refresh's shape (select the token with its
  family, conditional update, insert successor and access record, commit) on its own tables.

It prints req/s, p50, p99 and errors of each, and the ratios the issue sets as goals. The
server and wrk and PostgreSQL share the machine, so the figures move with its load: report
them with the time measured. `--tiny` (one-second runs, few codes) is the smoke test's mode.
`--profile N` profiles N refreshes in-process instead (cProfile; see bench/README.md).
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import httpx
from stateful_seed import fresh_database, mint_codes, pgbench, seed
from wrk_driver import (
    DONE_HOOK,
    BenchError,
    Credentials,
    Run,
    Server,
    free_port,
    interrupt_on_signals,
    reporting_failures,
    run_wrk,
    uvicorn_server,
)

TOKEN_PATH = "/v1/oauth/token"  # noqa: S105 (a path, not a secret)
GOALS = (
    ("refresh@16 / pgbench", 0.25),
    ("refresh@16 / client-credentials", 0.2),
    ("refresh@16 / refresh@1", 1.5),
)
P99_GOAL_MS = 50.0

_HEADERS = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "{authorization}"
"""
# One wrk thread per connection: each thread's Lua state keeps its own chain (or codes).
_PER_THREAD = """
local count = 0
function setup(thread)
  count = count + 1
  thread:set("index", count)
end
function init(args)
  items = {{}}
  local i = 0
  for line in io.lines("{path}" .. index) do i = i + 1; items[i] = line end
  next_item = 1
end
"""
REFRESH_LUA = """
function request()
  return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. items[1])
end
function response(status, headers, body)
  if status == 200 then items[1] = string.match(body, '"refresh_token":"([^"]+)"') end
end
"""
CODE_LUA = """
function request()
  local code = items[next_item] or "exhausted"
  next_item = next_item + 1
  return wrk.format(nil, nil, nil, "grant_type=authorization_code&code=" .. code)
end
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--database",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL URL; a fresh database is created beside it",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (10)")
    parser.add_argument("--pool-size", type=int, default=10, help="AS_DB_POOL_SIZE (10)")
    parser.add_argument("--tiny", action="store_true", help="1-second runs: a smoke test")
    parser.add_argument("--profile", type=int, default=0, help="profile N refreshes instead")
    parser.add_argument("--verbose", action="store_true", help="show wrk's own output")
    args = parser.parse_args()
    if args.tiny:
        args.duration = 1
    return args


def main() -> int:
    args = parse_args()
    missing = [tool for tool in ("wrk", "pgbench") if shutil.which(tool) is None]
    if missing and not args.profile:
        print(
            f"{' and '.join(missing)} not found: install them "
            "(Debian: apt-get install -y wrk postgresql-client)",
            file=sys.stderr,
        )
        return 2
    interrupt_on_signals()
    with tempfile.TemporaryDirectory(prefix="dropletbook-bench-") as tmp:
        workdir = Path(tmp)
        log = workdir / "server.log"

        def work() -> int:
            with fresh_database(args.database) as database_url:
                if args.profile:
                    from refresh_profile import profile_refreshes

                    profile_refreshes(database_url, args.profile)
                    return 0
                return _measure(args, database_url, workdir, log)

        return reporting_failures(work, log)


def _measure(args: argparse.Namespace, database_url: str, workdir: Path, log: Path) -> int:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    client, user_id = seed(database_url, issuer)
    environment = {
        "AS_DATABASE_URL": database_url,
        "AS_ISSUER": issuer,
        "AS_ENVIRONMENT": "development",
        "AS_LOG_LEVEL": "WARNING",
        "AS_DB_POOL_SIZE": str(args.pool_size),
    }
    wrk = shutil.which("wrk")
    assert wrk is not None
    app = "services.authorization_server.main:app"
    with uvicorn_server(app, port, environment, log) as server:
        chains = _chains(server, database_url, client, user_id, count=1 + 16 + 16)
        run = _Runner(args, wrk, server, workdir, client)
        run.refresh(chains[17:], "warm-up", seconds=2)
        results = {
            "client-credentials": run.script(
                "cc", "wrk.body = 'grant_type=client_credentials&scope=read'\n", connections=16
            ),
            "refresh@1": run.refresh(chains[:1], "refresh@1"),
            "refresh@16": run.refresh(chains[1:17], "refresh@16"),
        }
        expected = max(200, int(results["refresh@16"].per_second * args.duration * 2))
        codes = mint_codes(
            database_url, client_id=client.client_id, user_id=user_id, count=expected
        )
        results["code exchange@16"] = run.per_thread("code", codes, CODE_LUA)
    bench = pgbench(database_url, workdir, clients=16, seconds=args.duration)
    _report(results, bench, pool_size=args.pool_size)
    failed = sum(r.failed for r in results.values()) + int(bench["errors"])
    return 1 if failed else 0


class _Runner:
    def __init__(
        self,
        args: argparse.Namespace,
        wrk: str,
        server: Server,
        workdir: Path,
        client: Credentials,
    ) -> None:
        self._args, self._wrk, self._server, self._workdir = args, wrk, server, workdir
        self._headers = _HEADERS.format(authorization=client.authorization)

    def script(self, name: str, body: str, *, connections: int, seconds: int = 0) -> Run:
        path = self._workdir / f"{name}.lua"
        path.write_text(self._headers + body + DONE_HOOK)
        options = argparse.Namespace(**vars(self._args), threads=connections)
        options.connections = connections
        return run_wrk(self._wrk, self._server, TOKEN_PATH, path, options, seconds=seconds or None)

    def per_thread(
        self, name: str, items: list[str], hooks: str, *, connections: int = 16, seconds: int = 0
    ) -> Run:
        """wrk with one thread per connection, thread i reading its items from file i."""
        prefix = self._workdir / f"{name}-items-"
        for index in range(1, connections + 1):
            share = items[index - 1 :: connections]
            (prefix.parent / f"{prefix.name}{index}").write_text("\n".join(share) + "\n")
        body = _PER_THREAD.format(path=prefix) + hooks
        return self.script(name, body, connections=connections, seconds=seconds)

    def refresh(self, chains: list[str], name: str, *, seconds: int = 0) -> Run:
        label = name.replace("@", "-")
        return self.per_thread(label, chains, REFRESH_LUA, connections=len(chains), seconds=seconds)


def _chains(
    server: Server, database_url: str, client: Credentials, user_id: str, *, count: int
) -> list[str]:
    """`count` refresh tokens of separate grants, from code exchanges over HTTP."""
    codes = mint_codes(database_url, client_id=client.client_id, user_id=user_id, count=count)
    tokens = []
    for code in codes:
        response = httpx.post(
            server.url + TOKEN_PATH,
            data={"grant_type": "authorization_code", "code": code},
            auth=(client.client_id, client.client_secret),
        )
        if response.status_code != 200:
            raise BenchError(f"code exchange failed: {response.status_code} {response.text}")
        tokens.append(response.json()["refresh_token"])
    return tokens


def _report(results: dict[str, Run], bench: dict[str, float], *, pool_size: int) -> None:
    header = f"{'path':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'cpu us/req':>11}"
    print()
    print(f"one uvicorn process, AS_DB_POOL_SIZE={pool_size}")
    print(header)
    print("-" * len(header))
    for name, run in results.items():
        cpu = "n/a" if run.server_cpu_us is None else f"{run.server_cpu_us:.0f}"
        print(
            f"{name:<22}{run.per_second:>9.0f}{run.p50_ms:>9.2f}{run.p99_ms:>9.2f}"
            f"{run.failed:>8}{cpu:>11}"
        )
    print(
        f"{'pgbench@16 (shape)':<22}{bench['per_second']:>9.0f}{bench['p50_ms']:>9.2f}"
        f"{bench['p99_ms']:>9.2f}{int(bench['errors']):>8}{'':>11}"
    )
    refresh16 = results["refresh@16"]
    ratios = {
        "refresh@16 / pgbench": refresh16.per_second / bench["per_second"],
        "refresh@16 / client-credentials": refresh16.per_second
        / results["client-credentials"].per_second,
        "refresh@16 / refresh@1": refresh16.per_second / results["refresh@1"].per_second,
    }
    print()
    for name, goal in GOALS:
        verdict = "met" if ratios[name] >= goal else "NOT met"
        print(f"{name:<34}{ratios[name]:>7.3f}   goal >= {goal}: {verdict}")
    p99 = refresh16.p99_ms
    print(f"{'refresh@16 p99 ms':<34}{p99:>7.1f}   goal <= {P99_GOAL_MS:.0f}: ", end="")
    print("met" if p99 <= P99_GOAL_MS else "NOT met")
    errors = sum(r.failed for r in results.values()) + int(bench["errors"])
    print(f"{'errors (all runs)':<34}{errors:>7}   goal 0: {'met' if errors == 0 else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
