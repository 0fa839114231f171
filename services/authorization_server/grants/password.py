"""Resource owner password credentials grant, RFC 6749 §4.3: trusted clients only."""

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col
from starlette.concurrency import run_in_threadpool

from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.grants.base import SCOPE_PARAMETER, Grant, TokenRequest
from services.authorization_server.models import User
from services.authorization_server.scopes import resolve_scope
from services.authorization_server.throttle import account_key, ip_key
from services.authorization_server.token_store import USER_COLUMNS, Identity
from shared.db import utcnow
from shared.errors import InvalidGrantError

if TYPE_CHECKING:  # the context holds the grants: imported for typing only
    from services.authorization_server.context import ServerContext


class WrongPasswordError(InvalidGrantError):
    """The one failure that counts toward the account's and the IP's lockout."""


class PasswordGrant(Grant):
    grant_type = "password"
    parameters = {  # noqa: RUF012 (read-only declaration)
        "username": {"type": "string"},
        "password": {"type": "string", "format": "password"},
        "scope": SCOPE_PARAMETER,
    }
    required = ("username", "password")
    trusted_only = True
    note = " (trusted clients)"

    async def issue(self, request: TokenRequest) -> dict[str, Any]:
        form, client = request.form, request.client
        settings = self.context.settings
        scope = resolve_scope(
            form.get("scope"),
            client=client,
            supported=settings.scopes,
            default=settings.default_scope,
        )
        email = form["username"].strip().lower()
        async with self.context.db.connect() as conn:
            user = (
                await conn.execute(
                    select(*USER_COLUMNS, col(User.password_hash)).where(col(User.email) == email)
                )
            ).first()
        password_hash = user.password_hash if user else None
        # argon2 takes tens of milliseconds of CPU: off the event loop, holding no connection.
        verified = await run_in_threadpool(
            self.context.passwords.verify, form["password"], password_hash
        )
        if not verified or user is None:
            raise WrongPasswordError("invalid username or password")
        identity = Identity(*user[:-1])
        async with self.context.db.connect() as conn:
            body = await self.start_family(
                conn,
                user=identity,
                client=client,
                scope=scope,
                now=utcnow(),
                audience=request.audience,
            )
            await conn.commit()
        return body


async def throttled_password_exchange(
    context: "ServerContext",
    grant: PasswordGrant,
    form: dict[str, str],
    client: RegisteredClient,
    client_ip: str,
) -> dict[str, Any]:
    """The grant under the login form's lockouts: the same account and IP budgets."""
    throttle, policy = context.throttle, context.throttle.policy
    email = form.get("username", "").strip().lower()[:254]
    account, ip = account_key("password", email), ip_key("password", client_ip)
    await throttle.check(account, ip)
    try:
        body = await grant.exchange(form, client)
    except WrongPasswordError:
        await throttle.failed((policy.account, account), (policy.ip, ip))
        raise
    await throttle.succeeded(account)
    return body
