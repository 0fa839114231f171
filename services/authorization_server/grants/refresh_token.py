"""Refresh token grant, RFC 6749 §6, with rotation and reuse detection (RFC 9700 §4.14.2).

Reuse of a rotated refresh token revokes its whole family, except within a grace window
(`refresh_token_reuse_grace`) after the rotation: there the same client presenting the
just-rotated token gets the same successor again, with a fresh access token. The window is
for confidential clients, whose secret proves it is the client replaying; a public client's
"same client" is anyone holding the token, so it gets `public_client_refresh_reuse_grace`
(0 by default: its replay is reuse). Concurrent
refreshes with one token (two tabs, a retry after a timeout) then neither log the user out
nor fork the grant: a family never has more than one live refresh token.

Only digests are stored, so the successor is derived, not remembered: an HMAC, under a key
derived from `secret_key`, of the presented token and the instant it was rotated. The
rotation and the successor's insert are one transaction, so whoever sees a token rotated
also sees its successor; a replay checks that the successor is still the family's live
token. Once the successor has itself been rotated, the old token is no longer "just
rotated", and presenting it is reuse.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from services.authorization_server import token_store
from services.authorization_server.direct_connection import hot_connection
from services.authorization_server.grants.base import (
    SCOPE_PARAMETER,
    Grant,
    GrantContext,
    TokenRequest,
)
from services.authorization_server.revocation_store import revoke_family
from services.authorization_server.scopes import narrow_scope
from services.authorization_server.tokens import AccessTokenStamp
from shared.crypto import derive_key, hash_token, sign_value
from shared.db import utcnow
from shared.errors import InvalidGrantError

_SUCCESSOR_KEY_LABEL = "dropletbook refresh-token successor"
_REUSED = "refresh token already used; the grant is revoked"


class RefreshTokenGrant(Grant):
    grant_type = "refresh_token"
    parameters = {  # noqa: RUF012 (read-only declaration)
        "refresh_token": {"type": "string"},
        "scope": SCOPE_PARAMETER,
    }
    required = ("refresh_token",)
    note = " (rotated on use)"

    def __init__(self, context: GrantContext) -> None:
        super().__init__(context)
        secret = context.settings.secret_key.get_secret_value().encode("utf-8")
        self._successor_key = derive_key(secret, _SUCCESSOR_KEY_LABEL)

    async def issue(self, request: TokenRequest) -> dict[str, Any]:
        form, client = request.form, request.client
        presented = form["refresh_token"]
        token_hash = hash_token(presented)
        now = utcnow()
        successor = self._successor(presented, rotated_at=now)
        stamp = self.context.tokens.stamp()
        # The fast path: rotate, insert the successor and the access-token record, commit.
        # On PostgreSQL that is one statement; autocommitted unless a `scope` is to be
        # checked against the grant's once claimed (a wider one raises, and the transaction
        # rolls back). A fault in the statement leaves the old token working; one after it
        # (the client never got the answer) is mended by the grace window, where the old
        # token gets the same successor again.
        narrowing = "scope" in form
        async with hot_connection(self.context.db, autocommit=not narrowing) as conn:
            claimed = await token_store.rotate_refresh_token(
                conn,
                token_hash=token_hash,
                client_id=client.client_id,
                now=now,
                successor=self.refresh_row(successor, client_id=client.client_id, now=now),
                access={"jti": stamp.jti, "expires_at": stamp.expires_at},
            )
            if claimed is not None:
                body, _ = self._respond(request, claimed, successor, stamp)
                await conn.commit()
                return body
        return await self._not_rotated(request, presented, token_hash, now)

    async def _not_rotated(
        self, request: TokenRequest, presented: str, token_hash: str, now: datetime
    ) -> dict[str, Any]:
        """Why the token did not rotate: unknown, another client's, revoked, expired, or
        rotated already (the grace path, else reuse revokes the family)."""
        async with self.context.db.connect() as conn:
            token = await token_store.find_refresh_token(conn, token_hash=token_hash)
        # Another client's token is refused outright: no grace path, and no revocation.
        if token is None or token.client_id != request.client.client_id:
            raise InvalidGrantError("refresh token invalid")
        if not token.usable:
            raise InvalidGrantError("refresh token revoked")
        if token.rotated_at is None:
            if token.expires_at <= now:
                raise InvalidGrantError("refresh token expired")
            raise InvalidGrantError("refresh token invalid")  # its user is gone
        if self._within_grace(token.rotated_at, public=request.client.is_public):
            successor = self._successor(presented, rotated_at=token.rotated_at)
            async with hot_connection(self.context.db) as conn:
                claimed = await token_store.hold_live_refresh_token(
                    conn, token_hash=hash_token(successor), family_id=token.family_id, now=utcnow()
                )
                if claimed is not None:
                    body, access = self._respond(request, claimed, successor)
                    await token_store.add_tokens(conn, access=access)
                    await conn.commit()
                    return body
        async with self.context.db.begin() as conn:
            await revoke_family(conn, family_id=token.family_id, now=utcnow())
        raise InvalidGrantError(_REUSED)

    def _respond(
        self,
        request: TokenRequest,
        claimed: token_store.Claimed,
        refresh_token: str,
        stamp: AccessTokenStamp | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The response and its access token's record; the scope kept or narrowed (a wider
        one raises, and the transaction rolls back)."""
        return self.mint_for_user(
            family_id=claimed.family_id,
            user=claimed.user,
            client_id=request.client.client_id,
            scope=narrow_scope(request.form.get("scope"), granted=claimed.scope),
            audience=request.audience,
            refresh_token=refresh_token,
            stamp=stamp,
        )

    def _within_grace(self, rotated_at: datetime, *, public: bool) -> bool:
        settings = self.context.settings
        grace = (
            settings.public_client_refresh_reuse_grace
            if public
            else settings.refresh_token_reuse_grace
        )
        return grace > 0 and utcnow() - rotated_at <= timedelta(seconds=grace)

    def _successor(self, presented: str, *, rotated_at: datetime) -> str:
        """The refresh token that replaces `presented`, shaped like `new_token()`.

        The rotation instant (stored, to the microsecond) is part of the message, so that
        the server secret and an old token alone do not tell the family's later tokens.
        """
        instant = rotated_at.astimezone(UTC).isoformat(timespec="microseconds")
        return sign_value(self._successor_key, f"{presented}\n{instant}")
