"""Authorization code grant, RFC 6749 §4.1, with PKCE (RFC 7636 §4.6).

The authorization endpoint issues the code (§4.1.2); the token endpoint exchanges it
(§4.1.3). A code is checked against its client, redirect URI and verifier before it is consumed,
so a failed attempt changes nothing; a replayed code revokes what it issued (§10.5).
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from sqlmodel import Session

from services.authorization_server import pkce, token_store
from services.authorization_server.direct_connection import hot_connection
from services.authorization_server.grants.base import Grant, TokenRequest, new_family_id
from services.authorization_server.models import AuthorizationCode, User
from services.authorization_server.oidc.code_flow import CodeLogin, code_columns, with_id_token
from services.authorization_server.revocation_store import revoke_family
from shared.crypto import hash_token, new_token
from shared.db import utcnow
from shared.errors import InvalidGrantError

# Public: the RFC code and this; who used a code, or that anyone did, is for the log only.
_INVALID = "authorization code invalid"
_REPLAYED = "authorization code already used; the tokens it issued are revoked"

if TYPE_CHECKING:  # authorize.py reads the registry: imported for typing only
    from services.authorization_server.authorize import AuthorizationRequest


def issue_code(
    session: Session, *, user: User, request: "AuthorizationRequest", ttl: int
) -> dict[str, str]:
    """A new code, stored hashed and bound to the client, redirect URI and PKCE challenge."""
    code = new_token()
    session.add(
        AuthorizationCode(
            code_hash=hash_token(code),
            client_id=request.client.client_id,
            user_id=user.id,
            redirect_uri=request.redirect_uri if request.redirect_uri_given else "",
            scope=request.scope,
            code_challenge=request.code_challenge,
            expires_at=utcnow() + timedelta(seconds=ttl),
            **code_columns(request),
        )
    )
    return {"code": code}


class AuthorizationCodeGrant(Grant):
    grant_type = "authorization_code"
    response_type = "code"
    pkce = True
    parameters = {  # noqa: RUF012 (read-only declaration)
        "code": {"type": "string"},
        "redirect_uri": {"type": "string"},
        "code_verifier": {"type": "string"},
    }
    required = ("code",)
    note = " (with PKCE)"

    def respond(
        self, session: Session, *, user: User, request: "AuthorizationRequest"
    ) -> dict[str, str]:
        ttl = self.context.settings.authorization_code_ttl
        return issue_code(session, user=user, request=request, ttl=ttl)

    async def issue(self, request: TokenRequest) -> dict[str, Any]:
        form, client = request.form, request.client
        code_hash = hash_token(form["code"])
        now = utcnow()
        # One transaction: consume the code (returning it and its user), check it, insert
        # the family and its tokens, commit. Anything else rolls back: it consumed nothing.
        async with hot_connection(self.context.db) as conn:
            family_id = new_family_id()
            claimed = await token_store.consume_code(
                conn, code_hash=code_hash, client_id=client.client_id, now=now, family_id=family_id
            )
            if claimed is not None:
                redirect_uri, challenge, scope, nonce, auth_time, sid = claimed.extra
                if redirect_uri and form.get("redirect_uri") != redirect_uri:
                    raise InvalidGrantError("redirect_uri does not match the authorization request")
                pkce.verify(challenge=challenge, verifier=form.get("code_verifier"))
                body = await self.start_family(
                    conn,
                    user=claimed.user,
                    client=client,
                    scope=scope,
                    now=now,
                    audience=request.audience,
                    family_id=family_id,
                )
                await conn.commit()
        if claimed is None:  # this connection is released first: the answer may revoke
            return await self._not_consumed(code_hash, client.client_id, now)
        return await with_id_token(
            body,
            id_tokens=self.context.id_tokens,
            user=claimed.user,
            client=client,
            scope=scope,
            login=CodeLogin(nonce=nonce, auth_time=auth_time, sid=sid),
        )

    async def _not_consumed(self, code_hash: str, client_id: str, now: datetime) -> NoReturn:
        """Why the code was not consumed; a replay revokes what the code issued (§10.5)."""
        async with self.context.db.connect() as conn:
            code = await token_store.find_code(conn, code_hash=code_hash)
            if code is None or code.client_id != client_id:
                raise InvalidGrantError(_INVALID, detail="unknown code, or another client's")
            if code.consumed_at is not None:
                if code.token_family_id:
                    await revoke_family(conn, family_id=code.token_family_id, now=now)
                    await conn.commit()
                raise InvalidGrantError(_INVALID, detail=_REPLAYED)
            if code.expires_at <= now:
                raise InvalidGrantError("authorization code expired")
        raise InvalidGrantError(_INVALID, detail="the code's user no longer exists")
