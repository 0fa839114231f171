"""The throttling policy (services/authorization_server/throttle.py), on both stores."""

import asyncio
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from limits import parse

from services.authorization_server.settings import Settings
from services.authorization_server.throttle import Backoff, Throttle, TooManyAttemptsError
from tests.authorization_server.throttle_stores import STORES, unique_prefix

T = TypeVar("T")
BACKOFF = Backoff(free=3, window=3600, base=60, cap=600)


def test_lockout_starts_after_the_free_failures_and_doubles_up_to_the_cap() -> None:
    assert [BACKOFF.lockout(n) for n in range(1, 10)] == [0, 0, 0, 60, 120, 240, 480, 600, 600]
    assert BACKOFF.lockout(10**6) == 600  # no overflow, however long the attack


def test_too_many_attempts_is_429_with_retry_after() -> None:
    error = TooManyAttemptsError(0)
    assert (error.status_code, error.error) == (429, "invalid_request")
    assert error.headers() == {"Retry-After": "1"}  # never "retry now"


def test_settings_refuse_unreadable_rates() -> None:
    with pytest.raises(ValueError, match="throttle_signup_ip_rate"):
        Settings(environment="development", throttle_signup_ip_rate="10 per fortnight")


_opened: list[Throttle] = []


def _run(scenario: Coroutine[Any, Any, T]) -> T:
    """Run a scenario on a fresh loop, closing the throttles it opened on that loop."""

    async def closing() -> T:
        try:
            return await scenario
        finally:
            while _opened:
                await _opened.pop().aclose()

    return asyncio.run(closing())


def _throttle(redis_url: str | None, **overrides: object) -> Throttle:
    values: dict[str, object] = {
        "environment": "development",
        "redis_url": redis_url,
        "throttle_key_prefix": unique_prefix(),
        "throttle_account_failures": 3,
        "throttle_ip_failures": 5,
        "throttle_lockout_base": 60,
        "throttle_lockout_max": 600,
        **overrides,
    }
    throttle = Throttle.of(Settings(**values))  # type: ignore[arg-type]
    _opened.append(throttle)
    return throttle


@pytest.mark.parametrize("redis_url", STORES)
def test_failures_lock_the_account_and_each_further_one_doubles(redis_url: str | None) -> None:
    async def scenario() -> list[int]:
        throttle = _throttle(redis_url)
        account = throttle.policy.account
        for _ in range(3):
            await throttle.failed((account, "a"))
        await throttle.check("a")  # three free failures
        locks = []
        for _ in range(3):
            with pytest.raises(TooManyAttemptsError) as caught:
                await throttle.failed((account, "a"))
            locks.append(caught.value.retry_after)
        with pytest.raises(TooManyAttemptsError) as checked:
            await throttle.check("a", "other")
        assert 230 <= checked.value.retry_after <= 240
        await throttle.check("b")  # other accounts are not touched
        return locks

    assert _run(scenario()) == [60, 120, 240]


@pytest.mark.parametrize("redis_url", STORES)
def test_a_lockout_ends_when_its_time_is_up_and_not_before(redis_url: str | None) -> None:
    async def scenario() -> None:
        throttle = _throttle(redis_url, throttle_lockout_base=1, throttle_account_failures=1)
        await throttle.failed((throttle.policy.account, "a"))
        with pytest.raises(TooManyAttemptsError):
            await throttle.failed((throttle.policy.account, "a"))
        started = time.monotonic()
        with pytest.raises(TooManyAttemptsError):
            await throttle.check("a")
        while True:
            try:
                await throttle.check("a")
                break
            except TooManyAttemptsError:
                await asyncio.sleep(0.05)
        assert 0.5 <= time.monotonic() - started <= 2.5

    _run(scenario())


@pytest.mark.parametrize("redis_url", STORES)
def test_success_forgets_the_account_failures_but_not_the_ip_ones(redis_url: str | None) -> None:
    async def scenario() -> None:
        throttle = _throttle(redis_url)
        policy = throttle.policy
        for _ in range(3):
            await throttle.failed((policy.account, "a"), (policy.ip, "ip"))
        await throttle.succeeded("a")
        await throttle.succeeded("ip")  # what a route never does; shown for the contrast
        await throttle.failed((policy.account, "a"))  # counts from zero again: free
        for _ in range(2):
            await throttle.failed((policy.ip, "ip2"))

    _run(scenario())


@pytest.mark.parametrize("redis_url", STORES)
def test_the_local_mirror_knows_lockouts_this_process_has_seen(redis_url: str | None) -> None:
    async def scenario() -> None:
        prefix = unique_prefix()
        one = _throttle(redis_url, throttle_key_prefix=prefix, throttle_account_failures=1)
        other = _throttle(redis_url, throttle_key_prefix=prefix, throttle_account_failures=1)
        one.check_local("a")
        await one.failed((one.policy.account, "a"))
        with pytest.raises(TooManyAttemptsError):
            await one.failed((one.policy.account, "a"))
        with pytest.raises(TooManyAttemptsError):
            one.check_local("a")
        other.check_local("a")  # not seen here yet (the hot path reads no shared store)...
        if redis_url is not None:
            with pytest.raises(TooManyAttemptsError):
                await other.check("a")  # ...but shared: a strict check sees it
            with pytest.raises(TooManyAttemptsError):
                other.check_local("a")  # and from then on the mirror does too

    _run(scenario())


@pytest.mark.parametrize("redis_url", STORES)
def test_rate_limit_counts_every_attempt(redis_url: str | None) -> None:
    async def scenario() -> None:
        throttle = _throttle(redis_url)
        item = parse("3/minute")
        for _ in range(3):
            await throttle.hit(item, "signup:ip:1")
        with pytest.raises(TooManyAttemptsError) as caught:
            await throttle.hit(item, "signup:ip:1")
        assert 1 <= caught.value.retry_after <= 60
        await throttle.hit(item, "signup:ip:2")

    _run(scenario())


def test_prefixes_separate_deployments_sharing_one_redis() -> None:
    from tests.authorization_server.throttle_stores import REDIS_URL

    async def scenario() -> None:
        one = _throttle(REDIS_URL, throttle_account_failures=1)
        other = _throttle(REDIS_URL, throttle_account_failures=1)
        await one.failed((one.policy.account, "a"))
        with pytest.raises(TooManyAttemptsError):
            await one.failed((one.policy.account, "a"))
        await other.check("a")

    _run(scenario())
