"""Throttling of every credential check, built to stop guessing without locking out the
people and clients it protects.

- Guesses are counted as they arrive: `begin` reserves an attempt on every key of a check
  (account, device, address) in one atomic step before the password hash runs, so
  concurrent guesses never exceed the budget. The first `free` attempts of a key within
  `window` seconds cost nothing; each further one locks the key for `base` seconds, doubling
  up to `cap`. While a key is locked nothing is verified, a correct password included (OWASP
  ASVS 2.2.1). A correct password forgets an account's failures and refunds the address its
  attempt; an identical wrong password repeated is answered without counting again (only a
  keyed digest of it is kept).
- Checks whose right answer cannot be guessed (256-bit client secrets, the initial access
  token) never consult a counter before verifying: only failures count (`failed`), per
  address, so nobody can lock a client out.
- `hit`: every attempt counts (moving window), for sign-up and registration.

Counters live in `throttle_store` (Redis when `AS_REDIS_URL` is set, process memory
otherwise). Over a limit, `TooManyAttemptsError`: HTTP 429 with a true `Retry-After` (RFC 6585
§4) and the RFC 6749 §5.2 code `invalid_request`, which every client library understands.
"""

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem, parse
from starlette.requests import Request

from services.authorization_server.settings import Settings
from services.authorization_server.throttle_store import (
    Backoff,
    CounterStore,
    Reserved,
    Slot,
    open_store,
)
from shared.errors import InvalidRequestError


class TooManyAttemptsError(InvalidRequestError):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(f"too many attempts; try again in {self.retry_after} seconds")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True, slots=True)
class Policy:
    """The limits from settings, one `Backoff` per kind of key."""

    account: Backoff
    device: Backoff
    client: Backoff
    ip: Backoff
    signup_ip: RateLimitItem
    signup_email: RateLimitItem
    registration_ip: RateLimitItem
    registration_token: RateLimitItem

    @classmethod
    def of(cls, settings: Settings) -> "Policy":
        def backoff(free: int, *, resets: bool = False) -> Backoff:
            return Backoff(
                free=free,
                window=settings.throttle_failure_window,
                base=settings.throttle_lockout_base,
                cap=settings.throttle_lockout_max,
                resets=resets,
            )

        return cls(
            account=backoff(settings.throttle_account_failures, resets=True),
            device=backoff(settings.throttle_device_failures, resets=True),
            client=backoff(settings.throttle_client_failures),
            ip=backoff(settings.throttle_ip_failures),
            signup_ip=parse(settings.throttle_signup_ip_rate),
            signup_email=parse(settings.throttle_signup_email_rate),
            registration_ip=parse(settings.throttle_registration_ip_rate),
            registration_token=parse(settings.throttle_registration_token_rate),
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """An attempt reserved by `Throttle.begin`: settle it with `passed` or `wrong`.

    `known_wrong`: the same wrong password as a recent one for this account; answer it as
    wrong without verifying (nothing was counted)."""

    slots: tuple[Slot, ...]
    reserved: Reserved
    repeat: str | None

    @property
    def known_wrong(self) -> bool:
        return self.reserved.repeat


class Throttle:
    """Attempt counters, lockouts and rate limits over one `CounterStore`.

    Keys are `kind:subject` strings; `prefix` separates deployments (and tests) sharing one
    Redis. `secret` keys the digests of wrong passwords (never the passwords themselves).
    """

    def __init__(self, store: CounterStore, *, policy: Policy, prefix: str, secret: bytes) -> None:
        self.policy = policy
        self._store = store
        self._prefix = prefix
        self._secret = secret

    @classmethod
    def of(cls, settings: Settings) -> "Throttle":
        store = open_store(
            settings.redis_url,
            timeout=settings.redis_timeout,
            retry_after=settings.redis_retry_after,
        )
        secret = ("throttle:" + settings.secret_key.get_secret_value()).encode("utf-8")
        return cls(
            store, policy=Policy.of(settings), prefix=settings.throttle_key_prefix, secret=secret
        )

    async def aclose(self) -> None:
        """Close the Redis connections (at shutdown, on the loop that opened them)."""
        await self._store.aclose()

    def _slot(self, backoff: Backoff, key: str) -> Slot:
        return Slot(f"{self._prefix}:fail:{key}", f"{self._prefix}:lock:{key}", backoff)

    async def check(self, *keys: str) -> None:
        """Raise `TooManyAttemptsError` while any key is locked out."""
        locked_for = await self._store.locked_for([f"{self._prefix}:lock:{key}" for key in keys])
        if locked_for:
            raise TooManyAttemptsError(locked_for)

    async def begin(
        self, *subjects: tuple[Backoff, str], password: tuple[str, str] | None = None
    ) -> Attempt:
        """Reserve one attempt on every `(backoff, key)`, atomically, before verifying; raise
        `TooManyAttemptsError` (counting nothing) while any of them is locked.

        `password`: `(account, password)`, so that a wrong password repeated counts once;
        `account` names the account and its current password hash, so a password change
        forgets the digests."""
        slots = tuple(self._slot(backoff, key) for backoff, key in subjects)
        repeat = None
        if password is not None:
            account, secret = password
            message = f"{account}\x00{secret}".encode("utf-8", "surrogatepass")
            digest = hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]
            repeat = f"{self._prefix}:wrong:{digest}"
        reserved = await self._store.reserve(slots, repeat)
        if reserved.locked_for:
            raise TooManyAttemptsError(reserved.locked_for)
        return Attempt(slots, reserved, repeat)

    async def passed(self, attempt: Attempt) -> None:
        """The attempt was right: forget the failures of the keys that reset (an account's,
        a device's) and refund the others (an address's) this attempt only."""
        counted = list(zip(attempt.slots, attempt.reserved.counts, strict=False))
        forget = [slot for slot, _ in counted if slot.backoff.resets]
        refund = [(slot, count) for slot, count in counted if not slot.backoff.resets]
        await self._store.settle(forget, refund, None)

    async def wrong(self, attempt: Attempt) -> None:
        """The attempt was wrong: it stays counted (a password's digest is remembered);
        raise `TooManyAttemptsError` if it locked one of its keys."""
        if attempt.known_wrong:
            return
        if attempt.repeat is not None:
            await self._store.settle((), (), (attempt.repeat, self.policy.account.window))
        locked_for = max(attempt.reserved.locks, default=0)
        if locked_for:
            raise TooManyAttemptsError(locked_for)

    async def failed(self, *subjects: tuple[Backoff, str]) -> None:
        """Count a failure that needed no budget to be checked (a wrong client secret, a wrong
        initial access token, a forged form); raise while or once a key is locked."""
        await self.wrong(await self.begin(*subjects))

    async def hit(self, item: RateLimitItem, key: str) -> None:
        """Count an attempt against a rate limit; raise when over it."""
        wait = await self._store.hit(item, self._prefix, key)
        if wait:
            raise TooManyAttemptsError(wait)


def client_ip(request: Request) -> str:
    """The peer address: the client's behind a proxy that `AS_FORWARDED_ALLOW_IPS` names
    (shared/forwarded.py), else whoever connected."""
    return request.client.host if request.client else "unknown"


def address(ip: str) -> str:
    """The address a client is counted as: an IPv6 client by its /64 (one host's or one
    customer's usual allocation, RFC 6177), an IPv4 one (mapped or not) by itself."""
    try:
        parsed = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return ip[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def account_key(kind: str, subject: str) -> str:
    return f"{kind}:account:{subject}"


def ip_key(kind: str, ip: str) -> str:
    return f"{kind}:ip:{address(ip)}"


def login_subjects(
    policy: Policy, *, email: str, ip: str, device: str | None
) -> Sequence[tuple[Backoff, str]]:
    """The login form's keys (OWASP device cookies): a browser the account signed in from
    has a budget of its own; every other browser shares the account's, and its address's."""
    if device is not None:
        return [(policy.device, f"password:device:{device}")]
    return [(policy.account, account_key("password", email)), (policy.ip, ip_key("password", ip))]


def password_grant_subjects(
    policy: Policy, *, username: str, ip: str
) -> Sequence[tuple[Backoff, str]]:
    """The password grant's keys (trusted first-party clients): per account and address, and
    per address, so a stranger elsewhere cannot lock the account's app out."""
    net = address(ip)
    return [
        (policy.account, f"password-grant:account:{net}:{username}"),
        (policy.ip, ip_key("password", ip)),
    ]
