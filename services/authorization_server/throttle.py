"""Throttling of every credential check: failures lock a key out for a growing time, and
attempts that cost us work (sign-up mail, registration) are rate-limited.

The counting is the `limits` library's (async API): Redis when `AS_REDIS_URL` is set, so
replicas share one budget, process memory otherwise. Two shapes:

- `Backoff`: the first `free` failures of a key within `window` seconds cost nothing; each
  further one locks the key for `base` seconds, doubling per failure up to `cap`. While a key
  is locked nothing is verified, a correct password included, so waiting out a lockout is
  never faster than the policy (OWASP ASVS 2.2.1).
- `rate_limit`: every attempt counts (moving window), for sign-up and registration.

Over a limit, `TooManyAttemptsError`: HTTP 429 with `Retry-After` (RFC 6585 §4) and the RFC
6749 §5.2 code `invalid_request`, which every client library already understands.
"""

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from starlette.requests import Request

from services.authorization_server.settings import Settings
from shared.errors import InvalidRequestError, OAuthError

logger = logging.getLogger(__name__)
_MAX_LOCAL_BLOCKS = 100_000


@contextlib.contextmanager
def _storage_errors() -> Iterator[None]:
    try:
        yield
    except StorageError as exc:
        logger.error("throttling storage unreachable: %r", exc.storage_error)
        raise ThrottleUnavailableError("try again shortly") from None


class ThrottleUnavailableError(OAuthError):
    """The shared counters cannot be reached: credential checks stop (fail closed) rather
    than run unthrottled. Successful client authentication does not need them."""

    error = "temporarily_unavailable"
    status_code = 503

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}


class TooManyAttemptsError(InvalidRequestError):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(f"too many attempts; try again in {self.retry_after} seconds")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True, slots=True)
class Backoff:
    free: int
    window: int
    base: int
    cap: int

    def lockout(self, failures: int) -> int:
        """Seconds a key is locked after its `failures`-th failure in the window."""
        over = failures - self.free
        if over <= 0:
            return 0
        return min(self.cap, self.base << min(over - 1, 40))


@dataclass(frozen=True, slots=True)
class Policy:
    """The limits from settings, one `Backoff` per kind of key."""

    account: Backoff
    client: Backoff
    ip: Backoff
    signup_ip: RateLimitItem
    signup_email: RateLimitItem
    registration_ip: RateLimitItem

    @classmethod
    def of(cls, settings: Settings) -> "Policy":
        def backoff(free: int) -> Backoff:
            return Backoff(
                free=free,
                window=settings.throttle_failure_window,
                base=settings.throttle_lockout_base,
                cap=settings.throttle_lockout_max,
            )

        return cls(
            account=backoff(settings.throttle_account_failures),
            client=backoff(settings.throttle_client_failures),
            ip=backoff(settings.throttle_ip_failures),
            signup_ip=parse(settings.throttle_signup_ip_rate),
            signup_email=parse(settings.throttle_signup_email_rate),
            registration_ip=parse(settings.throttle_registration_ip_rate),
        )


class Throttle:
    """Failure counters, lockouts and rate limits over one `limits` storage.

    Keys are `kind:subject` strings; `prefix` separates deployments (and tests) sharing one
    Redis. Lockouts this process has seen are mirrored in memory: `check_local` reads only
    that mirror, for the token hot path (see `client_auth.authenticate_client`).
    """

    def __init__(self, storage: Storage, *, policy: Policy, prefix: str) -> None:
        self.policy = policy
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._prefix = prefix
        self._blocked_until: dict[str, float] = {}

    @classmethod
    def of(cls, settings: Settings) -> "Throttle":
        storage: Storage
        if settings.redis_url:
            storage = RedisStorage("async+" + settings.redis_url, wrap_exceptions=True)
        else:
            storage = MemoryStorage()
        return cls(storage, policy=Policy.of(settings), prefix=settings.throttle_key_prefix)

    async def aclose(self) -> None:
        """Close the Redis connections (at shutdown, on the loop that opened them)."""
        if isinstance(self._storage, RedisStorage):
            client: Any = getattr(self._storage.bridge, "storage", None)  # coredis.Redis
            if client is not None:
                client.connection_pool.disconnect()
                await asyncio.sleep(0)  # let the transports finish closing

    def _key(self, kind: str, key: str) -> str:
        return f"{self._prefix}:{kind}:{key}"

    async def check(self, *keys: str) -> None:
        """Raise `TooManyAttemptsError` while any key is locked out (one read per key)."""
        for key in keys:
            with _storage_errors():
                locked = await self._storage.get(self._key("lock", key))
                until = await self._storage.get_expiry(self._key("lock", key)) if locked else 0
            if locked:
                self._remember(key, until)
                raise TooManyAttemptsError(math.ceil(until - time.time()))

    def check_local(self, *keys: str) -> None:
        """Like `check`, from the lockouts this process has seen: no I/O at all."""
        if not self._blocked_until:
            return
        now = time.time()
        for key in keys:
            until = self._blocked_until.get(key)
            if until is not None:
                if until > now:
                    raise TooManyAttemptsError(math.ceil(until - now))
                del self._blocked_until[key]

    async def failed(self, *subjects: tuple[Backoff, str]) -> None:
        """Count one failure for each `(backoff, key)`; raise if one of them is now locked."""
        longest = 0
        for backoff, key in subjects:
            with _storage_errors():
                failures = await self._storage.incr(self._key("fail", key), backoff.window)
                lockout = backoff.lockout(failures)
                if lockout:
                    lock = self._key("lock", key)
                    await self._storage.clear(lock)  # a fresh expiry: incr keeps an old one
                    await self._storage.incr(lock, lockout)
            if lockout:
                self._remember(key, time.time() + lockout)
                longest = max(longest, lockout)
        if longest:
            raise TooManyAttemptsError(longest)

    async def succeeded(self, key: str) -> None:
        """Forget an account's failures after a correct password (never an IP's)."""
        with _storage_errors():
            await self._storage.clear(self._key("fail", key))

    async def hit(self, item: RateLimitItem, key: str) -> None:
        """Count an attempt against a rate limit; raise when over it."""
        with _storage_errors():
            allowed = await self._limiter.hit(item, self._prefix, key)
            reset = (
                0.0
                if allowed
                else (await self._limiter.get_window_stats(item, self._prefix, key)).reset_time
            )
        if not allowed:
            raise TooManyAttemptsError(math.ceil(reset - time.time()))

    def _remember(self, key: str, until: float) -> None:
        if len(self._blocked_until) >= _MAX_LOCAL_BLOCKS:
            self._blocked_until.clear()
        self._blocked_until[key] = until


def client_ip(request: Request) -> str:
    """The peer address (behind a proxy, run uvicorn with `--proxy-headers` and
    `--forwarded-allow-ips` so this is the client's, not the proxy's)."""
    return request.client.host if request.client else "unknown"


def account_key(kind: str, subject: str) -> str:
    return f"{kind}:account:{subject}"


def ip_key(kind: str, ip: str) -> str:
    return f"{kind}:ip:{ip}"
