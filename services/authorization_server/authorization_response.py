"""What an approved or denied authorization request sends back (RFC 6749 §4.1.2, §4.2.2).

Every redirect carries `iss` (RFC 9207) so that a client talking to several servers
can tell which one answered (mix-up attacks, RFC 9700 §4.4).
"""

from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.authorize import AuthorizationRequest
from services.authorization_server.models import (
    AuthorizationCode,
    Consent,
    IssuedAccessToken,
    TokenFamily,
    User,
)
from services.authorization_server.tokens import AccessTokenIssuer
from shared.crypto import hash_token, new_token
from shared.db import utcnow
from shared.scopes import format_scope, parse_scope


def redirect_url(redirect_uri: str, params: dict[str, str], *, fragment: bool) -> str:
    """Add response parameters to the query (keeping the URI's own) or to the fragment."""
    parts = urlsplit(redirect_uri)
    if fragment:
        return urlunsplit(parts._replace(fragment=urlencode(params)))
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def response_parameters(
    request: AuthorizationRequest, params: dict[str, str], *, issuer: str
) -> dict[str, str]:
    if request.state is not None:
        params["state"] = request.state
    params["iss"] = issuer
    return params


def _consent(session: Session, user: User, request: AuthorizationRequest) -> Consent | None:
    return repository.get_consent(
        session=session,
        user_id=user.id,
        client_id=request.client.client_id,
        response_type=request.response_type,
    )


def has_consent(session: Session, *, user: User, request: AuthorizationRequest) -> bool:
    """Whether the user approved this response type for the client, with these scopes."""
    consent = _consent(session, user, request)
    return consent is not None and parse_scope(request.scope) <= parse_scope(consent.scope)


def record_consent(session: Session, *, user: User, request: AuthorizationRequest) -> None:
    """Remember the approval, adding to what the user approved before for this response type."""
    consent = _consent(session, user, request)
    if consent is None:
        consent = Consent(
            user_id=user.id,
            client_id=request.client.client_id,
            response_type=request.response_type,
            scope=request.scope,
        )
    else:
        consent.scope = format_scope(parse_scope(consent.scope) | parse_scope(request.scope))
        consent.updated_at = utcnow()
    session.add(consent)


def issue_code(
    session: Session, *, user: User, request: AuthorizationRequest, ttl: int
) -> dict[str, str]:
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
        )
    )
    return {"code": code}


def issue_implicit_token(
    session: Session, *, user: User, request: AuthorizationRequest, tokens: AccessTokenIssuer
) -> dict[str, str]:
    """RFC 6749 §4.2.2: an access token in the fragment, never a refresh token."""
    client_id = request.client.client_id
    family = TokenFamily(
        client_id=client_id, user_id=user.id, scope=request.scope, origin="implicit"
    )
    session.add(family)
    session.flush()
    access = tokens.issue_for_user(user=user, client_id=client_id, scope=request.scope)
    session.add(
        IssuedAccessToken(jti=access.jti, family_id=family.id, expires_at=access.expires_at)
    )
    return {
        "access_token": access.value,
        "token_type": "bearer",
        "expires_in": str(access.expires_in),
        "scope": request.scope,
    }
