"""Refresh token grant, RFC 6749 §6, with rotation and reuse detection (RFC 9700 §4.14.2)."""

from typing import Any

from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.grants.base import SCOPE_PARAMETER, Grant, TokenRequest
from services.authorization_server.scopes import narrow_scope
from shared.crypto import hash_token
from shared.db import utcnow
from shared.errors import InvalidGrantError


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
        token_hash = hash_token(form["refresh_token"])
        now = utcnow()
        with Session(self.context.engine, expire_on_commit=False) as session:
            token = repository.get_refresh_token(session=session, token_hash=token_hash)
            if token is None or token.client_id != client.client_id:
                raise InvalidGrantError("refresh token invalid")
            family = repository.get_family(session=session, family_id=token.family_id)
            if family is None or family.revoked_at is not None or family.user_id is None:
                raise InvalidGrantError("refresh token revoked")
            if token.rotated_at is not None:
                self._revoke(session, family.id)
                raise InvalidGrantError("refresh token already used; the grant is revoked")
            if token.expires_at <= now:
                raise InvalidGrantError("refresh token expired")
            scope = narrow_scope(form.get("scope"), granted=family.scope)
            user = repository.get_user(session=session, user_id=family.user_id)
            if user is None:
                raise InvalidGrantError("refresh token invalid")
            if not repository.rotate_refresh_token(session=session, token_hash=token_hash, now=now):
                session.rollback()
                self._revoke(session, family.id)
                raise InvalidGrantError("refresh token already used; the grant is revoked")
            body = self.issue_for_user(
                session,
                family=family,
                user=user,
                client=client,
                scope=scope,
                now=now,
                audience=audience,
            )
            session.commit()
        return body

    @staticmethod
    def _revoke(session: Session, family_id: str) -> None:
        repository.revoke_family(session=session, family_id=family_id)
        session.commit()
