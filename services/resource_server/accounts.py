"""Accounts: created on first use of a token `sub`, and cached for the hot path."""

import time
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.resource_server import repository
from services.resource_server.models import Account
from services.resource_server.schemas import AccountPublic
from services.resource_server.verifier import AccessTokenClaims


def get_or_create_account(
    *, session: Session, claims: AccessTokenClaims, droplet_limit: int
) -> Account:
    """The account of `claims.sub`, created on first use (a concurrent creator may win)."""
    account = repository.get_account(session=session, sub=claims.sub)
    if account is None:
        account = _new_account(claims, droplet_limit)
        session.add(account)
        try:
            session.commit()
        except IntegrityError:  # another request created it first
            session.rollback()
            account = repository.get_account(session=session, sub=claims.sub)
            if account is None:
                raise
    elif claims.email and account.kind == "user" and account.email != claims.email:
        account.email = claims.email  # the authorization server is the source of truth
        session.add(account)
        session.commit()
    return account


def _new_account(claims: AccessTokenClaims, droplet_limit: int) -> Account:
    if claims.is_client_token:
        return Account(
            sub=claims.sub, kind="service", client_id=claims.client_id, droplet_limit=droplet_limit
        )
    # A user's account shares the user's uuid (the token `sub`).
    return Account(
        sub=claims.sub,
        uuid=claims.sub,
        kind="user",
        email=claims.email,
        droplet_limit=droplet_limit,
    )


def account_public(account: Account) -> AccountPublic:
    return AccountPublic.model_validate(account, from_attributes=True)


class AccountCache:
    """Rendered accounts by `sub` for `ttl` seconds: `GET /v2/account` skips the database."""

    def __init__(
        self, *, ttl: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, bytes]] = {}

    def get(self, sub: str) -> bytes | None:
        entry = self._entries.get(sub)
        if entry is None or entry[0] < self._clock():
            return None
        return entry[1]

    def put(self, sub: str, body: bytes) -> None:
        if self._ttl <= 0:
            return
        if len(self._entries) >= self._max:
            self._entries.pop(next(iter(self._entries)))
        self._entries[sub] = (self._clock() + self._ttl, body)
