"""Browser sessions, the login-first rule and CSRF tokens for the HTML pages.

The session cookie holds a random token plus its HMAC (signed, HttpOnly, SameSite=Lax);
the database holds only the token's digest, so logout and expiry work server-side.
CSRF tokens are HMACs under the server secret of what identifies the browser's session:
the session token once logged in, otherwise a random pre-login seed in the `as_csrf`
cookie. A planted seed cookie therefore never yields a token for someone's session, and
both rotate at login and logout, so a token from before either is refused after it.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlmodel import Session

from services.authorization_server import repository
from services.authorization_server.deps import ContextDep, SessionDep, run_sync
from services.authorization_server.models import User, UserSession
from services.authorization_server.oidc.request import Login
from services.authorization_server.request_body import PageForm, read_page_form
from services.authorization_server.settings import Settings
from shared.cookies import host_cookie
from shared.crypto import hash_token, new_token, sign_value, signature_matches
from shared.db import utcnow
from shared.errors import InvalidRequestError

SESSION_COOKIE = "as_session"
CSRF_COOKIE = "as_csrf"
# Base names: `__Host-as_session` and `__Host-as_csrf` outside development (shared.cookies).


class CsrfError(InvalidRequestError):
    status_code = 403


def _secret(settings: Settings) -> bytes:
    return settings.secret_key.get_secret_value().encode("utf-8")


def _set_cookie(
    response: Response, settings: Settings, name: str, value: str, max_age: int
) -> None:
    host_cookie(name, settings).set(response, value, max_age=max_age)


def _session_token(request: Request, settings: Settings) -> str | None:
    cookie = host_cookie(SESSION_COOKIE, settings).read(request) or ""
    token, _, signature = cookie.partition(".")
    if token and signature and signature_matches(_secret(settings), token, signature):
        return token
    return None


def start_session(
    session: Session,
    response: Response,
    *,
    settings: Settings,
    user: User,
    request: Request | None = None,
) -> None:
    """A new login; the browser's previous session (a fresh login asked for by OpenID
    Connect `prompt=login` or `max_age`) ends, so its cookie cannot outlive it."""
    previous = _session_token(request, settings) if request is not None else None
    if previous is not None:
        repository.delete_user_session(session=session, token_hash=hash_token(previous))
    token = new_token()
    now = utcnow()
    expires_at = now + timedelta(seconds=settings.session_ttl)
    session.add(UserSession(token_hash=hash_token(token), user_id=user.id, expires_at=expires_at))
    session.commit()
    signed = f"{token}.{sign_value(_secret(settings), token)}"
    _set_cookie(response, settings, SESSION_COOKIE, signed, settings.session_ttl)
    _new_csrf_seed(response, settings)


def end_session(
    session: Session, request: Request, response: Response, *, settings: Settings
) -> None:
    token = _session_token(request, settings)
    if token is not None:
        repository.delete_user_session(session=session, token_hash=hash_token(token))
        session.commit()
    host_cookie(SESSION_COOKIE, settings).delete(response)
    _new_csrf_seed(response, settings)


def session_user(session: Session, request: Request, settings: Settings) -> User | None:
    """The user of the browser's session, if it is live."""
    token = _session_token(request, settings)
    if token is None:
        return None
    return repository.get_session_user(session=session, token_hash=hash_token(token), now=utcnow())


def session_login(session: Session, request: Request, settings: Settings) -> Login | None:
    """The browser's login: who, since when (`auth_time`) and in which session (`sid`)."""
    token = _session_token(request, settings)
    if token is None:
        return None
    row = repository.get_live_session(session=session, token_hash=hash_token(token), now=utcnow())
    if row is None:
        return None
    return Login(user_id=row.user_id, auth_time=row.created_at, sid=row.sid)


async def current_user(request: Request, context: ContextDep, session: SessionDep) -> User | None:
    user = await run_sync(session, session_user, request, context.settings)
    # End the read: the request holds no pooled connection while it reads its body.
    await session.commit()
    return user


OptionalUser = Annotated[User | None, Depends(current_user)]


# What the docs say of the 303 `LoginRequired` answers.
TO_LOGIN = "Not logged in: to the login page"


class LoginRequired(Exception):
    """A page for logged-in users, asked for without a session: main's handler answers 303
    to the login page, which sends the browser back to `next` after it."""

    def __init__(self, next: str) -> None:
        super().__init__(next)
        self.next = next


def login_first(home: str, *, pages_return: bool = True) -> Callable[..., Awaitable[User]]:
    """Dependency of a section's pages: the logged-in user, else `LoginRequired` back to the
    page asked for (a GET) or to the section's `home` (a POST, whose form a login cannot
    replay; every request when `pages_return` is off)."""

    async def logged_in_user(request: Request, user: OptionalUser) -> User:
        if user is None:
            back_to_page = pages_return and request.method == "GET"
            raise LoginRequired(request.url.path if back_to_page else home)
        return user

    return logged_in_user


def _new_csrf_seed(response: Response, settings: Settings) -> str:
    """A fresh pre-login seed: set at first use, and at login and logout (rotation)."""
    seed = new_token(16)
    _set_cookie(response, settings, CSRF_COOKIE, seed, 7 * 86400)
    return seed


def _csrf_binding(request: Request, settings: Settings) -> str | None:
    """What this browser's CSRF token is bound to: its session, else its pre-login seed."""
    token = _session_token(request, settings)
    if token is not None:
        return "csrf:session:" + token
    seed = host_cookie(CSRF_COOKIE, settings).read(request)
    return "csrf:seed:" + seed if seed and len(seed) <= 100 else None


def csrf_token(request: Request, response: Response, settings: Settings) -> str:
    """The form token for this browser; sets the seed cookie when there is nothing to bind to."""
    binding = _csrf_binding(request, settings)
    if binding is None:
        seed = _new_csrf_seed(response, settings)
        request.cookies[host_cookie(CSRF_COOKIE, settings).name] = seed  # later calls agree
        binding = "csrf:seed:" + seed
    return sign_value(_secret(settings), binding)


def check_csrf(request: Request, settings: Settings, submitted: str | None) -> None:
    binding = _csrf_binding(request, settings)
    if (
        binding is None
        or not submitted
        or not signature_matches(_secret(settings), binding, submitted)
    ):
        raise CsrfError("CSRF token missing or invalid; reload the page and try again")


PAGE_SCOPE_KEY = "authorization_server.page"


async def csrf_checked_form(request: Request, context: ContextDep) -> PageForm:
    """A page POST's form, once its CSRF token matches this browser's session or seed.

    The request is marked as a page's, so its errors are rendered as a page whatever the
    `Accept` header (main's `OAuthError` handler)."""
    request.scope[PAGE_SCOPE_KEY] = True
    form = await read_page_form(request, max_bytes=context.settings.max_body_bytes)
    csrf = form.getlist("csrf_token")
    check_csrf(request, context.settings, csrf[0] if len(csrf) == 1 else None)
    return form


CsrfForm = Annotated[PageForm, Depends(csrf_checked_form)]
