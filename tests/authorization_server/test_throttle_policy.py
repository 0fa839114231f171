"""The throttling policy (services/authorization_server/throttle.py), on both stores."""

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from limits import parse

from services.authorization_server.settings import Settings
from services.authorization_server.throttle import (
    Throttle,
    TooManyAttemptsError,
    address,
    ip_key,
)
from services.authorization_server.throttle_store import Backoff
from tests.authorization_server.throttle_stores import STORES, assert_retry_after, unique_prefix

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
def test_failures_lock_the_account_and_attempts_while_locked_are_refused_uncounted(
    redis_url: str | None,
) -> None:
    async def scenario() -> list[int]:
        throttle = _throttle(redis_url)
        account = throttle.policy.account
        for _ in range(3):
            await throttle.failed((account, "a"))
        await throttle.check("a")  # three free failures
        locking = time.monotonic()
        locks = []
        for _ in range(3):  # the first locks; the others are refused, not counted
            with pytest.raises(TooManyAttemptsError) as caught:
                await throttle.failed((account, "a"))
            locks.append(caught.value.retry_after)
        with pytest.raises(TooManyAttemptsError) as checked:
            await throttle.check("a", "other")
        # What is left of the 60 s lock, however long the steps above took.
        assert_retry_after(str(checked.value.retry_after), limit=60, since=locking)
        for lock in locks[1:]:
            assert_retry_after(str(lock), limit=60, since=locking)
        await throttle.check("b")  # other accounts are not touched
        return locks

    locks = _run(scenario())
    assert locks[0] == 60  # the policy's lockout, as the locking failure computes it


@pytest.mark.parametrize("redis_url", STORES)
def test_a_lockout_ends_when_its_time_is_up_and_not_before(redis_url: str | None) -> None:
    async def scenario() -> None:
        throttle = _throttle(redis_url, throttle_lockout_base=1, throttle_account_failures=1)
        await throttle.failed((throttle.policy.account, "a"))
        locking = time.monotonic()
        with pytest.raises(TooManyAttemptsError):
            await throttle.failed((throttle.policy.account, "a"))
        deadline = time.monotonic() + 60  # a generous bound on the wait, not a budget
        while True:
            try:
                await throttle.check("a")
                break
            except TooManyAttemptsError:
                assert time.monotonic() < deadline, "the 1 s lockout never ended"
                await asyncio.sleep(0.05)
        assert time.monotonic() - locking >= 1 - 0.1  # not before its time, however slow
        with pytest.raises(TooManyAttemptsError) as doubled:  # the next failure: twice as long
            await throttle.failed((throttle.policy.account, "a"))
        assert doubled.value.retry_after == 2

    _run(scenario())


@pytest.mark.parametrize("redis_url", STORES)
def test_a_right_password_forgets_the_account_failures_and_refunds_the_address(
    redis_url: str | None,
) -> None:
    async def scenario() -> None:
        throttle = _throttle(redis_url)
        policy = throttle.policy
        for _ in range(4):  # four of the address's five free attempts, wrong
            await throttle.failed((policy.ip, "ip"))
        for _ in range(2):
            await throttle.failed((policy.account, "a"), (policy.ip, "ip2"))
        for _ in range(3):  # right: neither locks the address nor uses up its budget
            await throttle.passed(await throttle.begin((policy.account, "a"), (policy.ip, "ip")))
        await throttle.failed((policy.ip, "ip"))  # the fifth: still free
        with pytest.raises(TooManyAttemptsError):
            await throttle.failed((policy.ip, "ip"))
        for _ in range(3):  # the account's failures were forgotten: three free again
            await throttle.failed((policy.account, "a"))

    _run(scenario())


@pytest.mark.parametrize("redis_url", STORES)
def test_concurrent_attempts_never_exceed_the_budget(redis_url: str | None) -> None:
    """Reserved before the work: of 30 guesses at once, the 3 free ones and the one that
    locks the key are let through; the others are refused without being checked."""

    async def scenario() -> list[bool]:
        throttle = _throttle(redis_url)
        policy = throttle.policy

        async def guess() -> bool:
            try:
                attempt = await throttle.begin((policy.account, "a"), (policy.ip, "ip"))
            except TooManyAttemptsError:
                return False
            await asyncio.sleep(0.01)  # the password hash
            with contextlib.suppress(TooManyAttemptsError):
                await throttle.wrong(attempt)
            return True

        checked = await asyncio.gather(*(guess() for _ in range(30)))
        with pytest.raises(TooManyAttemptsError):
            await throttle.begin((policy.account, "a"))  # the right password waits too
        return checked

    assert _run(scenario()).count(True) == 4


@pytest.mark.parametrize("redis_url", STORES)
def test_an_identical_wrong_password_counts_once(redis_url: str | None) -> None:
    async def scenario() -> None:
        throttle = _throttle(redis_url)
        account = (throttle.policy.account, "a")
        first = await throttle.begin(account, password=("a", "Summer2026"))
        assert not first.known_wrong
        await throttle.wrong(first)
        for _ in range(10):  # a phone retrying an old password: known wrong, not counted
            repeat = await throttle.begin(account, password=("a", "Summer2026"))
            assert repeat.known_wrong
            await throttle.wrong(repeat)
        again = await throttle.begin(account, password=("b", "Summer2026"))
        assert not again.known_wrong  # another account (or password hash): counted
        await throttle.wrong(again)
        await throttle.failed(account)
        with pytest.raises(TooManyAttemptsError):
            await throttle.failed(account)  # the fourth distinct failure
        with pytest.raises(TooManyAttemptsError):
            await throttle.begin(account, password=("a", "Summer2026"))  # locked: refused

    _run(scenario())


def test_keys_of_ipv6_clients_are_their_64_networks() -> None:
    same = {address("2001:db8:1:2:aaaa::1"), address("2001:db8:1:2:ffff::9")}
    assert same == {"2001:db8:1:2::/64"}
    assert address("2001:db8:1:3::1") != address("2001:db8:1:2::1")
    assert address("::ffff:192.0.2.7") == address("192.0.2.7") == "192.0.2.7"
    assert address("fe80::1%eth0") == "fe80::/64"
    assert address("unknown") == "unknown"
    assert ip_key("login", "2001:DB8::1") == ip_key("login", "2001:db8::2")


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
