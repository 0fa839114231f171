"""Refresh token grant, RFC 6749 §6, with rotation and reuse detection (RFC 9700 §4.14.2).

Reuse of a rotated refresh token revokes its whole family, except within a grace window
(`refresh_token_reuse_grace`) after the rotation: there the same client presenting the
just-rotated token gets the same successor again, with a fresh access token. Concurrent
refreshes with one token (two tabs, a retry after a timeout) then neither log the user out
nor fork the grant: a family never has more than one live refresh token.

Only digests are stored, so the successor is derived, not remembered: an HMAC, under a key
derived from `secret_key`, of the presented token and the instant it was rotated. The
rotation and the successor's insert are one transaction, so whoever sees a token rotated
also sees its successor; a replay checks that the successor is still the family's live
token. Once the successor has itself been rotated, the old token is no longer "just
rotated", and presenting it is reuse.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.grants.base import SCOPE_PARAMETER, Grant, TokenRequest
from services.authorization_server.models import TokenFamily, User
from services.authorization_server.scopes import narrow_scope
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

    def issue(self, request: TokenRequest) -> dict[str, Any]:
        form, client, audience = request.form, request.client, request.audience
        presented = form["refresh_token"]
        token_hash = hash_token(presented)
        now = utcnow()
        with Session(self.context.engine, expire_on_commit=False) as session:
            token = repository.get_refresh_token(session=session, token_hash=token_hash)
            # Another client's token is refused outright: no grace path, and no revocation.
            if token is None or token.client_id != client.client_id:
                raise InvalidGrantError("refresh token invalid")
            family = repository.get_family(session=session, family_id=token.family_id)
            if family is None or family.revoked_at is not None or family.user_id is None:
                raise InvalidGrantError("refresh token revoked")
            if token.rotated_at is None:
                if token.expires_at <= now:
                    raise InvalidGrantError("refresh token expired")
                scope, user = self._scope_and_user(session, form, family)
                # One transaction: the rotation, the successor and the access-token record
                # commit together or not at all (a fault leaves the old token working).
                if repository.rotate_refresh_token(session=session, token_hash=token_hash, now=now):
                    successor = self._successor(presented, rotated_at=now)
                    repository.add_refresh_token(
                        session=session,
                        token_hash=hash_token(successor),
                        family_id=family.id,
                        client_id=client.client_id,
                        scope=family.scope,
                        now=now,
                        ttl=self.context.settings.refresh_token_ttl,
                    )
                    body = self.respond_for_user(
                        session,
                        family=family,
                        user=user,
                        client=client,
                        scope=scope,
                        audience=audience,
                        refresh_token=successor,
                    )
                    session.commit()
                    return body
                session.rollback()  # a concurrent request rotated it first: take the grace path
            again = self._live_successor(session, presented, token_hash, family.id)
            if again is None:
                self._revoke(session, family.id)
                raise InvalidGrantError(_REUSED)
            scope, user = self._scope_and_user(session, form, family)
            body = self.respond_for_user(
                session,
                family=family,
                user=user,
                client=client,
                scope=scope,
                audience=audience,
                refresh_token=again,
            )
            session.commit()
        return body

    def _successor(self, presented: str, *, rotated_at: datetime) -> str:
        """The refresh token that replaces `presented`, shaped like `new_token()`.

        The rotation instant (stored, to the microsecond) is part of the message, so that
        the server secret and an old token alone do not tell the family's later tokens.
        """
        key = derive_key(
            self.context.settings.secret_key.get_secret_value().encode("utf-8"),
            _SUCCESSOR_KEY_LABEL,
        )
        instant = rotated_at.astimezone(UTC).isoformat(timespec="microseconds")
        return sign_value(key, f"{presented}\n{instant}")

    def _live_successor(
        self, session: Session, presented: str, token_hash: str, family_id: str
    ) -> str | None:
        """The successor to hand out again, if `presented` was rotated within the grace
        window and its successor is still the family's live token (held until commit)."""
        grace = self.context.settings.refresh_token_reuse_grace
        if grace == 0:
            return None
        token = repository.get_refresh_token(session=session, token_hash=token_hash, reload=True)
        if token is None or token.rotated_at is None:  # revoked (deleted) meanwhile
            return None
        now = utcnow()
        if now - token.rotated_at > timedelta(seconds=grace):
            return None
        successor = self._successor(presented, rotated_at=token.rotated_at)
        live = repository.hold_live_refresh_token(
            session=session, token_hash=hash_token(successor), family_id=family_id, now=now
        )
        return successor if live else None

    @staticmethod
    def _scope_and_user(
        session: Session, form: Mapping[str, str], family: TokenFamily
    ) -> tuple[str, User]:
        scope = narrow_scope(form.get("scope"), granted=family.scope)
        assert family.user_id is not None  # checked by the caller
        user = repository.get_user(session=session, user_id=family.user_id)
        if user is None:
            raise InvalidGrantError("refresh token invalid")
        return scope, user

    @staticmethod
    def _revoke(session: Session, family_id: str) -> None:
        session.rollback()
        repository.revoke_family(session=session, family_id=family_id)
        session.commit()
