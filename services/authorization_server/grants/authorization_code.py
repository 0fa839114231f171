"""Authorization code grant, RFC 6749 §4.1.3, with PKCE (RFC 7636 §4.6).

A code is checked against its client, redirect URI and verifier before it is consumed,
so a failed attempt changes nothing; a replayed code revokes what it issued (§10.5).
"""

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from services.authorization_server import pkce, repository
from services.authorization_server.client_auth import RegisteredClient
from services.authorization_server.grants.base import Grant
from services.authorization_server.models import TokenFamily
from shared.crypto import hash_token
from shared.db import utcnow
from shared.errors import InvalidGrantError


class AuthorizationCodeGrant(Grant):
    grant_type = "authorization_code"
    required = ("code",)

    def issue(
        self, form: Mapping[str, str], client: RegisteredClient, audience: str
    ) -> dict[str, Any]:
        code_hash = hash_token(form["code"])
        now = utcnow()
        with Session(self.context.engine, expire_on_commit=False) as session:
            code = repository.get_code(session=session, code_hash=code_hash)
            if code is None or code.client_id != client.client_id:
                raise InvalidGrantError("authorization code invalid")
            if code.consumed_at is not None:
                if code.token_family_id:
                    repository.revoke_family(session=session, family_id=code.token_family_id)
                    session.commit()
                raise InvalidGrantError("authorization code already used")
            if code.expires_at <= now:
                raise InvalidGrantError("authorization code expired")
            if code.redirect_uri and form.get("redirect_uri") != code.redirect_uri:
                raise InvalidGrantError("redirect_uri does not match the authorization request")
            pkce.verify(challenge=code.code_challenge, verifier=form.get("code_verifier"))
            user = repository.get_user(session=session, user_id=code.user_id)
            if user is None:
                raise InvalidGrantError("authorization code invalid")
            if not repository.consume_code(session=session, code_hash=code_hash, now=now):
                raise InvalidGrantError("authorization code already used")
            family = TokenFamily(
                client_id=client.client_id,
                user_id=user.id,
                scope=code.scope,
                origin=self.grant_type,
            )
            session.add(family)
            code.token_family_id = family.id
            session.add(code)
            session.flush()
            body = self.issue_for_user(
                session,
                family=family,
                user=user,
                client=client,
                scope=code.scope,
                now=now,
                audience=audience,
            )
            session.commit()
        return body
