"""Where a refresh's time goes: cProfile over a chain of refreshes in-process.

`token_endpoint.exchange` is called directly (client authentication from the cache, the
grant, its statements on the async engine, the ES256 signature), so HTTP parsing and the
ASGI layers are left out; one event loop, one connection at a time.
"""

import asyncio
import cProfile
import io
import pstats
import time
from collections import defaultdict

from stateful_seed import mint_codes, seed

from services.authorization_server.context import ServerContext
from services.authorization_server.db import make_engine
from services.authorization_server.settings import Settings
from services.authorization_server.token_endpoint import exchange

# Where a frame's file lies (or, for C functions, what their name says), to sum the CPU
# time per layer.
LAYERS = (
    ("psycopg", "psycopg (driver, protocol, socket calls)"),
    ("sqlalchemy", "SQLAlchemy pool (checkout, check-in, greenlet bridge)"),
    ("greenlet", "SQLAlchemy pool (checkout, check-in, greenlet bridge)"),
    ("ECPrivateKey", "ES256 signature"),
    ("cryptography", "ES256 signature"),
    ("jwt", "JWT encoding"),
    ("jose", "JWT encoding"),
    ("asyncio", "event loop"),
    ("epoll", "event loop"),
    ("selectors", "event loop"),
    ("_contextvars", "event loop"),
    ("_hashlib", "digests and HMACs (token hashes, successor)"),
    ("hmac", "digests and HMACs (token hashes, successor)"),
    ("authorization_server", "our code (grant, client auth, token store)"),
    ("shared", "our code (grant, client auth, token store)"),
)


def profile_refreshes(database_url: str, count: int) -> None:
    issuer = "http://127.0.0.1:9"
    client, user_id = seed(database_url, issuer)
    settings = Settings(environment="development", database_url=database_url, issuer=issuer)
    context = ServerContext.build(settings, make_engine(database_url))
    context.keys.reload()
    (code,) = mint_codes(database_url, client_id=client.client_id, user_id=user_id, count=1)
    authorization = client.authorization

    async def chain() -> float:
        form = {"grant_type": "authorization_code", "code": code}
        body = await exchange(context, form, authorization, client_ip="127.0.0.1")
        token = body["refresh_token"]
        for _ in range(50):  # warm the pool and the statement caches
            token = (await _refresh(context, token, authorization))["refresh_token"]
        profiler = cProfile.Profile(time.process_time)
        started = time.perf_counter()
        profiler.enable()
        for _ in range(count):
            token = (await _refresh(context, token, authorization))["refresh_token"]
        profiler.disable()
        elapsed = time.perf_counter() - started
        _print(profiler, count, elapsed)
        await context.db.dispose()
        return elapsed

    asyncio.run(chain())
    context.engine.dispose()


async def _refresh(context: ServerContext, token: str, authorization: str) -> dict[str, str]:
    form = {"grant_type": "refresh_token", "refresh_token": token}
    return await exchange(context, form, authorization, client_ip="127.0.0.1")


def _print(profiler: cProfile.Profile, count: int, elapsed: float) -> None:
    stats = pstats.Stats(profiler)
    per_layer: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        where = function if filename == "~" else filename
        layer = next((name for key, name in LAYERS if key in where), "other (stdlib, C)")
        per_layer[layer] += tottime
    print(f"{count} refreshes in {elapsed:.2f} s: {elapsed / count * 1e6:.0f} us each (profiled)")
    print("CPU time (process_time) by layer, with cProfile's own overhead:")
    print(f"{'layer (own time)':<56}{'us/refresh':>11}{'share':>8}")
    for layer, seconds in sorted(per_layer.items(), key=lambda item: -item[1]):
        print(f"{layer:<56}{seconds / count * 1e6:>11.0f}{seconds / total:>8.0%}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print(out.getvalue())
