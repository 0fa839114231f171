"""The redirect back to the client and the user's consent (RFC 6749 §4.1.2, §4.2.2).

What an approved request issues is its grant's (`Grant.respond`).

Every redirect carries `iss` (RFC 9207) so that a client talking to several servers
can tell which one answered (mix-up attacks, RFC 9700 §4.4).
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.authorize import (
    AuthorizationRedirectError,
    AuthorizationRequest,
    error_parameters,
)
from services.authorization_server.grants import Grant
from services.authorization_server.models import Consent, User
from shared.db import utcnow
from shared.errors import AccessDeniedError
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
    """Whether the user approved this response type for the client, with these scopes, to
    this redirect URI: one the client added since (`/v1/apps/self`, the portal) asks again."""
    consent = _consent(session, user, request)
    return (
        consent is not None
        and parse_scope(request.scope) <= parse_scope(consent.scope)
        and request.redirect_uri in consent.redirect_uris
    )


def record_consent(session: Session, *, user: User, request: AuthorizationRequest) -> None:
    """Remember the approval, adding to what the user approved before for this response type."""
    consent = _consent(session, user, request)
    if consent is None:
        consent = Consent(
            user_id=user.id,
            client_id=request.client.client_id,
            response_type=request.response_type,
            scope=request.scope,
            redirect_uris=[request.redirect_uri],
        )
    else:
        consent.scope = format_scope(parse_scope(consent.scope) | parse_scope(request.scope))
        if request.redirect_uri not in consent.redirect_uris:
            consent.redirect_uris = [*consent.redirect_uris, request.redirect_uri]
        consent.updated_at = utcnow()
    session.add(consent)


def error_redirect_url(error: AuthorizationRedirectError, *, issuer: str) -> str:
    """Where an error found after the redirect URI was verified goes (RFC 6749 §4.1.2.1)."""
    params = error_parameters(error.error)
    if error.state is not None:
        params["state"] = error.state
    params["iss"] = issuer
    return redirect_url(error.redirect_uri, params, fragment=error.fragment)


def approve(
    session: Session, *, grant: Grant, user: User, request: AuthorizationRequest, issuer: str
) -> str:
    """Issue what the request's grant issues (a code, or a token), commit; the redirect URL."""
    params = grant.respond(session, user=user, request=request)
    session.commit()
    params = response_parameters(request, params, issuer=issuer)
    return redirect_url(request.redirect_uri, params, fragment=request.uses_fragment)


def decide(
    session: Session,
    *,
    grant: Grant,
    user: User,
    request: AuthorizationRequest,
    approved: bool,
    issuer: str,
) -> str:
    """The user's answer on the consent screen: remembered and approved, or `access_denied`."""
    if approved:
        record_consent(session, user=user, request=request)
        return approve(session, grant=grant, user=user, request=request, issuer=issuer)
    denied = AuthorizationRedirectError(
        AccessDeniedError("the user denied the request"),
        redirect_uri=request.redirect_uri,
        state=request.state,
        fragment=request.uses_fragment,
    )
    return error_redirect_url(denied, issuer=issuer)
