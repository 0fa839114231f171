"""Authorization code grant, RFC 6749 §4.1, with PKCE (RFC 7636 §4.6).

The authorization endpoint issues the code (§4.1.2); the token endpoint exchanges it
(§4.1.3). A code is checked against its client, redirect URI and verifier before it is consumed,
so a failed attempt changes nothing; a replayed code revokes what it issued (§10.5).
"""

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from services.authorization_server import pkce, repository
from services.authorization_server.grants.base import Grant, TokenRequest
from services.authorization_server.models import AuthorizationCode, User
from services.authorization_server.oidc.code_flow import add_id_token, code_columns
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

    def issue(self, request: TokenRequest) -> dict[str, Any]:
        form, client, audience = request.form, request.client, request.audience
        code_hash = hash_token(form["code"])
        now = utcnow()
        with Session(self.context.engine, expire_on_commit=False) as session:
            code = repository.get_code(session=session, code_hash=code_hash)
            if code is None or code.client_id != client.client_id:
                raise InvalidGrantError(_INVALID, detail="unknown code, or another client's")
            if code.consumed_at is not None:
                if code.token_family_id:
                    repository.revoke_family(session=session, family_id=code.token_family_id)
                    session.commit()
                raise InvalidGrantError(_INVALID, detail=_REPLAYED)
            if code.expires_at <= now:
                raise InvalidGrantError("authorization code expired")
            if code.redirect_uri and form.get("redirect_uri") != code.redirect_uri:
                raise InvalidGrantError("redirect_uri does not match the authorization request")
            pkce.verify(challenge=code.code_challenge, verifier=form.get("code_verifier"))
            user = repository.get_user(session=session, user_id=code.user_id)
            if user is None:
                raise InvalidGrantError(_INVALID, detail="the code's user no longer exists")
            if not repository.consume_code(session=session, code_hash=code_hash, now=now):
                raise InvalidGrantError(_INVALID, detail=_REPLAYED)
            family, body = self.start_family(
                session, user=user, client=client, scope=code.scope, now=now, audience=audience
            )
            code.token_family_id = family.id  # a replay of the code revokes this family
            session.add(code)
            session.commit()
        return add_id_token(
            body, id_tokens=self.context.id_tokens, code=code, user=user, client=client
        )
