"""Implicit grant, RFC 6749 §4.2: an access token in the redirect's fragment.

It has a `response_type` and no token-endpoint step: a `grant_type=implicit` token
request is `unsupported_grant_type` (§4.2 defines none).
"""

from typing import TYPE_CHECKING

from sqlmodel import Session

from services.authorization_server.grants.base import Grant
from services.authorization_server.models import IssuedAccessToken, TokenFamily, User

if TYPE_CHECKING:  # authorize.py reads the registry: imported for typing only
    from services.authorization_server.authorize import AuthorizationRequest


class ImplicitGrant(Grant):
    grant_type = "implicit"  # its name in client metadata (RFC 7591 §2)
    token_endpoint = False
    response_type = "token"
    response_mode = "fragment"

    def respond(
        self, session: Session, *, user: User, request: "AuthorizationRequest"
    ) -> dict[str, str]:
        """RFC 6749 §4.2.2: an access token, never a refresh token."""
        client_id = request.client.client_id
        family = TokenFamily(
            client_id=client_id, user_id=user.id, scope=request.scope, origin=self.grant_type
        )
        session.add(family)
        session.flush()
        access = self.context.tokens.issue_for_user(
            user=user, client_id=client_id, scope=request.scope
        )
        session.add(
            IssuedAccessToken(jti=access.jti, family_id=family.id, expires_at=access.expires_at)
        )
        return {
            "access_token": access.value,
            "token_type": "bearer",
            "expires_in": str(access.expires_in),
            "scope": request.scope,
        }
