"""Where the throttle's counters live: process memory, or Redis shared by every replica.

Each store does the throttle's steps atomically: `reserve` checks the locks of every key and
counts one attempt on each in one step (one Lua script on Redis; no await between the reads
and the writes in memory), so concurrent attempts can never be checked against the same
count. The `limits` rate limiter (`hit`) runs on the same connection pool.

Redis is reached with short connect and socket timeouts and no retries, behind a circuit
breaker: after a failure every call fails fast for `redis_retry_after` seconds, so a Redis
that is down or stalled costs a request at most one timeout, and usually nothing.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import coredis
from coredis.exceptions import RedisError
from coredis.retry import NoRetryPolicy
from coredis.typing import ValueT
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from shared.errors import TemporarilyUnavailableError

logger = logging.getLogger(__name__)
T = TypeVar("T")
_MAX_MEMORY_KEYS = 200_000


class ThrottleUnavailableError(TemporarilyUnavailableError):
    """The shared counters cannot be reached: credential checks stop (fail closed) rather
    than run unthrottled. Checks that never need a counter (a correct client secret or
    initial access token) do not."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("try again shortly", retry_after=retry_after)


@dataclass(frozen=True, slots=True)
class Backoff:
    """`free` attempts per `window` seconds (from the first), then each attempt locks the key
    for `base` seconds, doubling up to `cap`. `resets`: a success forgets the key's failures
    (an account's, a device's); otherwise it only refunds its own attempt (an address's)."""

    free: int
    window: int
    base: int
    cap: int
    resets: bool = False

    def lockout(self, count: int) -> int:
        """Seconds a key is locked by its `count`-th attempt in the window."""
        over = count - self.free
        return 0 if over <= 0 else min(self.cap, self.base << min(over - 1, 40))


@dataclass(frozen=True, slots=True)
class Slot:
    """One key's attempt counter and lock, under its backoff."""

    fail: str
    lock: str
    backoff: Backoff


@dataclass(frozen=True, slots=True)
class Reserved:
    """What `reserve` did: refused (`locked_for` > 0 seconds, nothing counted), found a
    repeat (nothing counted), or counted (`counts`, and `locks`: seconds each key is now
    locked for because of this attempt, 0 for none)."""

    locked_for: int = 0
    repeat: bool = False
    counts: tuple[int, ...] = ()
    locks: tuple[int, ...] = ()


class CounterStore(Protocol):
    async def reserve(self, slots: Sequence[Slot], repeat: str | None) -> Reserved: ...

    async def locked_for(self, locks: Sequence[str]) -> int: ...

    async def settle(
        self,
        forget: Sequence[Slot],
        refund: Sequence[tuple[Slot, int]],
        remember: tuple[str, int] | None,
    ) -> None: ...

    async def hit(self, item: RateLimitItem, namespace: str, key: str) -> int: ...

    async def aclose(self) -> None: ...


class MemoryStore:
    """One process's counters: every step runs without an await, so it is atomic."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[int, float]] = {}  # key -> (value, expires at)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def _get(self, key: str, now: float) -> int | None:
        entry = self._values.get(key)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def _set(self, key: str, value: int, expires: float) -> None:
        if len(self._values) >= _MAX_MEMORY_KEYS:
            now = time.time()
            self._values = {k: v for k, v in self._values.items() if v[1] > now}
            if len(self._values) >= _MAX_MEMORY_KEYS:
                self._values.clear()
        self._values[key] = (value, expires)

    def _ttl(self, key: str, now: float) -> float:
        entry = self._values.get(key)
        return entry[1] - now if entry is not None and entry[1] > now else 0.0

    async def reserve(self, slots: Sequence[Slot], repeat: str | None) -> Reserved:
        now = time.time()
        longest = max((self._ttl(slot.lock, now) for slot in slots), default=0.0)
        if longest > 0:
            return Reserved(locked_for=_seconds(longest))
        if repeat is not None and self._get(repeat, now) is not None:
            return Reserved(repeat=True)
        counts, locks = [], []
        for slot in slots:
            entry = self._values.get(slot.fail)
            live = entry is not None and entry[1] > now
            count = entry[0] + 1 if entry is not None and live else 1
            expires = entry[1] if entry is not None and live else now + slot.backoff.window
            self._set(slot.fail, count, expires)
            lock = slot.backoff.lockout(count)
            if lock:
                self._set(slot.lock, count, now + lock)
            counts.append(count)
            locks.append(lock)
        return Reserved(counts=tuple(counts), locks=tuple(locks))

    async def locked_for(self, locks: Sequence[str]) -> int:
        now = time.time()
        longest = max((self._ttl(lock, now) for lock in locks), default=0.0)
        return _seconds(longest) if longest > 0 else 0

    async def settle(
        self,
        forget: Sequence[Slot],
        refund: Sequence[tuple[Slot, int]],
        remember: tuple[str, int] | None,
    ) -> None:
        now = time.time()
        for slot in forget:
            self._values.pop(slot.fail, None)
            self._values.pop(slot.lock, None)
        for slot, count in refund:
            if self._get(slot.lock, now) == count:
                del self._values[slot.lock]
            entry = self._values.get(slot.fail)
            if entry is not None and entry[1] > now:
                if entry[0] > 1:
                    self._values[slot.fail] = (entry[0] - 1, entry[1])
                else:
                    del self._values[slot.fail]
        if remember is not None:
            key, window = remember
            self._set(key, 1, now + window)

    async def hit(self, item: RateLimitItem, namespace: str, key: str) -> int:
        return await _hit(self._limiter, item, namespace, key)

    async def aclose(self) -> None:
        return None


# KEYS: per slot its fail and lock keys, then the repeat key (if ARGV[2] is "1").
# ARGV: the number of slots, the repeat flag, then per slot free, window, base and cap.
# Returns {-1, ms} when a key is locked, {0} for a repeat, else {1, count, lock, ...}.
_RESERVE = """
local n = tonumber(ARGV[1])
local longest = 0
for i = 1, n do
  local ttl = redis.call('PTTL', KEYS[2 * i])
  if ttl > longest then longest = ttl end
end
if longest > 0 then return {-1, longest} end
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[2 * n + 1]) == 1 then return {0} end
local result = {1}
for i = 1, n do
  local free = tonumber(ARGV[4 * i - 1])
  local window = tonumber(ARGV[4 * i])
  local base = tonumber(ARGV[4 * i + 1])
  local cap = tonumber(ARGV[4 * i + 2])
  local count = redis.call('INCR', KEYS[2 * i - 1])
  if count == 1 then redis.call('EXPIRE', KEYS[2 * i - 1], window) end
  local lock = 0
  if count > free then
    lock = math.min(cap, base * 2 ^ math.min(count - free - 1, 40))
    redis.call('SET', KEYS[2 * i], count, 'EX', lock)
  end
  result[2 * i] = count
  result[2 * i + 1] = lock
end
return result
"""

# KEYS: the fail and lock keys of the slots to forget, then of those to refund, then the
# repeat key to remember. ARGV: how many to forget, the refunded counts, the repeat window.
_SETTLE = """
local forget = tonumber(ARGV[1])
local refund = #ARGV - 2
for i = 1, 2 * forget do redis.call('DEL', KEYS[i]) end
for i = 1, refund do
  local fail, lock = KEYS[2 * (forget + i) - 1], KEYS[2 * (forget + i)]
  if redis.call('GET', lock) == ARGV[i + 1] then redis.call('DEL', lock) end
  if redis.call('EXISTS', fail) == 1 and redis.call('DECR', fail) <= 0 then
    redis.call('DEL', fail)
  end
end
local window = tonumber(ARGV[#ARGV])
if window > 0 then redis.call('SET', KEYS[#KEYS], 1, 'EX', window) end
return 0
"""


class RedisStore:
    """Counters in Redis, shared by every replica, behind a circuit breaker."""

    def __init__(self, url: str, *, timeout: float, retry_after: int) -> None:
        options: dict[str, Any] = {
            "connect_timeout": timeout,
            "stream_timeout": timeout,
            "retry_policy": NoRetryPolicy(),
        }
        self._redis: coredis.Redis[bytes] = coredis.Redis.from_url(url, **options)
        self._reserve = self._redis.register_script(_RESERVE)
        self._settle = self._redis.register_script(_SETTLE)
        pool = self._redis.connection_pool
        shared: dict[str, Any] = {**options, "connection_pool": pool}
        storage: Storage = RedisStorage("async+" + url, wrap_exceptions=True, **shared)
        self._limiter = MovingWindowRateLimiter(storage)
        self._retry_after = retry_after
        self._open_until = 0.0

    async def _call(self, step: Callable[[], Awaitable[T]]) -> T:
        """One round trip, unless the breaker is open; any failure opens it."""
        if time.monotonic() < self._open_until:
            raise ThrottleUnavailableError(self._retry_after)
        try:
            return await step()
        except (RedisError, StorageError, OSError, TimeoutError) as exc:
            self._open_until = time.monotonic() + self._retry_after
            logger.error("throttling storage unreachable: %r", exc)
            raise ThrottleUnavailableError(self._retry_after) from None

    async def reserve(self, slots: Sequence[Slot], repeat: str | None) -> Reserved:
        keys: list[str | bytes] = [key for slot in slots for key in (slot.fail, slot.lock)]
        args: list[ValueT] = [len(slots), "0" if repeat is None else "1"]
        for slot in slots:
            backoff = slot.backoff
            args += [backoff.free, backoff.window, backoff.base, backoff.cap]
        if repeat is not None:
            keys.append(repeat)
        answer: Any = await self._call(lambda: self._reserve(keys=keys, args=args))
        if answer[0] == -1:
            return Reserved(locked_for=_seconds(answer[1] / 1000))
        if answer[0] == 0:
            return Reserved(repeat=True)
        values = [int(value) for value in answer[1:]]
        return Reserved(counts=tuple(values[0::2]), locks=tuple(values[1::2]))

    async def locked_for(self, locks: Sequence[str]) -> int:
        longest = 0
        for lock in locks:
            ttl = await self._call(lambda lock=lock: self._redis.pttl(lock))  # type: ignore[misc]
            longest = max(longest, ttl)
        return _seconds(longest / 1000) if longest > 0 else 0

    async def settle(
        self,
        forget: Sequence[Slot],
        refund: Sequence[tuple[Slot, int]],
        remember: tuple[str, int] | None,
    ) -> None:
        if not (forget or refund or remember):
            return
        keys: list[str | bytes] = [key for slot in forget for key in (slot.fail, slot.lock)]
        keys += [key for slot, _ in refund for key in (slot.fail, slot.lock)]
        key, window = remember or ("unused", 0)
        keys.append(key)
        args: list[ValueT] = [len(forget), *(count for _, count in refund), window]
        await self._call(lambda: self._settle(keys=keys, args=args))

    async def hit(self, item: RateLimitItem, namespace: str, key: str) -> int:
        return await self._call(lambda: _hit(self._limiter, item, namespace, key))

    async def aclose(self) -> None:
        """Close the connections (at shutdown, on the loop that opened them)."""
        self._redis.connection_pool.disconnect()
        await asyncio.sleep(0)  # let the transports finish closing


async def _hit(limiter: MovingWindowRateLimiter, item: RateLimitItem, ns: str, key: str) -> int:
    """Count an attempt against a rate limit: 0 if allowed, else seconds until one is."""
    if await limiter.hit(item, ns, key):
        return 0
    reset = (await limiter.get_window_stats(item, ns, key)).reset_time
    return _seconds(reset - time.time())


def _seconds(value: float) -> int:
    """A wait in whole seconds, rounded up, never 0: `Retry-After` must not say "now"."""
    return max(1, -int(-value // 1))


def open_store(redis_url: str | None, *, timeout: float, retry_after: int) -> CounterStore:
    if redis_url:
        return RedisStore(redis_url, timeout=timeout, retry_after=retry_after)
    return MemoryStore()
