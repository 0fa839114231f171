"""Resource owner password credentials grant, RFC 6749 §4.3: trusted clients only."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlmodel import col
from starlette.concurrency import run_in_threadpool

from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.grants.base import SCOPE_PARAMETER, Grant, TokenRequest
from services.authorization_server.models import User
from services.authorization_server.scopes import resolve_scope
from services.authorization_server.throttle import password_grant_subjects
from services.authorization_server.token_store import USER_COLUMNS, Identity
from shared.db import utcnow
from shared.errors import InvalidGrantError


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

    async def issue(self, request: TokenRequest, *, client_ip: str = "unknown") -> dict[str, Any]:
        """Tokens for a right password, under the throttle (`throttle.password_grant_subjects`):
        the attempt is reserved before the password hash runs."""
        form, client = request.form, request.client
        settings = self.context.settings
        scope = resolve_scope(
            form.get("scope"),
            client=client,
            supported=settings.scopes,
            default=settings.default_scope,
        )
        email = form["username"].strip().lower()[:254]
        async with self.context.db.connect() as conn:
            user = (
                await conn.execute(
                    select(*USER_COLUMNS, col(User.password_hash)).where(col(User.email) == email)
                )
            ).first()
        password_hash = user.password_hash if user else None
        throttle = self.context.throttle
        password = form["password"]
        attempt = await throttle.begin(
            *password_grant_subjects(throttle.policy, username=email, ip=client_ip),
            password=(f"{email}\x00{password_hash or ''}", password),
        )
        # argon2 takes tens of milliseconds of CPU: off the event loop, holding no connection.
        verified = not attempt.known_wrong and await run_in_threadpool(
            self.context.passwords.verify, password, password_hash
        )
        if not verified or user is None:
            await throttle.wrong(attempt)
            raise InvalidGrantError("invalid username or password")
        await throttle.passed(attempt)
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

    async def exchange_from(
        self, form: Mapping[str, str], client: RegisteredClient, *, client_ip: str
    ) -> dict[str, Any]:
        """`exchange`, counting the attempt against the caller's address."""
        return await self.issue(self.validate(form, client), client_ip=client_ip)
