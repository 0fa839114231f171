"""Authorization code grant, RFC 6749 §4.1, with PKCE (RFC 7636 §4.6).

The authorization endpoint issues the code (§4.1.2); the token endpoint exchanges it
(§4.1.3). A code is checked against its client, redirect URI and verifier before it is consumed,
so a failed attempt changes nothing; a replayed code revokes what it issued (§10.5).
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from services.authorization_server import code_store, pkce
from services.authorization_server.direct_connection import hot_connection
from services.authorization_server.grants.base import Grant, TokenRequest
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
        code = await self._check(await self._find(code_hash), form, client.client_id, now)
        body, rows = self.new_family(
            user=code.user, client=client, scope=code.scope, now=now, audience=request.audience
        )
        # Consume the code and store the grant: one statement on PostgreSQL, only if the
        # code is still unused, so of concurrent exchanges exactly one succeeds.
        async with hot_connection(self.context.db, autocommit=True) as conn:
            consumed = await code_store.consume_code(
                conn,
                code_hash=code_hash,
                client_id=client.client_id,
                now=now,
                family=rows.family,
                refresh=rows.refresh,
                access=rows.access,
            )
            await conn.commit()
        if not consumed:  # used meanwhile: this is the replay
            await self._check(await self._find(code_hash), form, client.client_id, now)
            raise InvalidGrantError(_INVALID, detail="the code was used meanwhile")
        return with_id_token(
            body,
            id_tokens=self.context.id_tokens,
            user=code.user,
            client=client,
            scope=code.scope,
            login=CodeLogin(nonce=code.nonce, auth_time=code.auth_time, sid=code.sid),
        )

    async def _find(self, code_hash: str) -> code_store.StoredCode | None:
        async with hot_connection(self.context.db, autocommit=True) as conn:  # a single read
            return await code_store.find_code(conn, code_hash=code_hash)

    async def _check(
        self,
        code: code_store.StoredCode | None,
        form: Mapping[str, str],
        client_id: str,
        now: datetime,
    ) -> code_store.StoredCode:
        """The code, unless it is unknown or another client's, used (a replay revokes what
        it issued, §10.5), expired, or presented with the wrong redirect URI or verifier.
        Nothing is consumed by a refusal."""
        if code is None or code.client_id != client_id:
            raise InvalidGrantError(_INVALID, detail="unknown code, or another client's")
        if code.consumed_at is not None:
            if code.token_family_id:
                async with self.context.db.begin() as conn:
                    await revoke_family(conn, family_id=code.token_family_id, now=now)
            raise InvalidGrantError(_INVALID, detail=_REPLAYED)
        if code.expires_at <= now:
            raise InvalidGrantError("authorization code expired")
        if code.redirect_uri and form.get("redirect_uri") != code.redirect_uri:
            raise InvalidGrantError("redirect_uri does not match the authorization request")
        pkce.verify(challenge=code.code_challenge, verifier=form.get("code_verifier"))
        return code
