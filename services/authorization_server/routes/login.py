"""Sign-up, login and logout pages. Every successful credential POST answers 303."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import ContextDep, SessionDep, run_sync
from services.authorization_server.devices import known_device, remember_device
from services.authorization_server.models import User
from services.authorization_server.pages import (
    render,
    render_too_many,
    safe_next,
    see_other,
)
from services.authorization_server.request_body import read_form
from services.authorization_server.throttle import (
    TooManyAttemptsError,
    account_key,
    client_ip,
    ip_key,
    login_subjects,
)
from services.authorization_server.users import (
    MAX_EMAIL_LENGTH,
    VERIFY_PATH,
    UserInputError,
    checked_account,
    finish_signup,
    normalize_email,
    pending_signup,
    start_signup,
    unconfirmed_password_hash,
)
from services.authorization_server.web_session import (
    PAGE_SCOPE_KEY,
    OptionalUser,
    check_csrf,
    end_session,
    start_session,
)
from shared.db import utcnow
from shared.openapi import form_post, html_page, redirect_only

router = APIRouter(tags=["pages"])
_NEXT = "to `next` (a path on this server)"


async def _checked_form(request: Request, context: ContextDep) -> dict[str, str]:
    """The form of a credential page, once its CSRF token matches; its errors render as a
    page (main's `OAuthError` handler)."""
    request.scope[PAGE_SCOPE_KEY] = True
    form = await read_form(request, max_bytes=context.settings.max_body_bytes)
    check_csrf(request, context.settings, form.pop("csrf_token", None))
    return form


_CheckedForm = Annotated[dict[str, str], Depends(_checked_form)]


@router.get("/", summary="Home", **redirect_only("To the account page, or to log in"))
async def home(user: OptionalUser) -> Response:
    return see_other("/account/applications" if user else "/login")


@router.get(
    "/login",
    summary="Login page",
    **html_page("The login form", redirects=f"Logged in already: {_NEXT}"),
)
async def login_page(
    request: Request,
    user: OptionalUser,
    next: str | None = None,
    prompt: str | None = None,
    login_hint: str | None = None,
) -> Response:
    """`prompt=login`: the form even with a session (OpenID Connect asks for a fresh login);
    `login_hint` prefills the email."""
    target = safe_next(next)
    if user is not None and prompt != "login":
        return see_other(target)
    email = (login_hint or "")[:MAX_EMAIL_LENGTH]
    return render(request, "login.html", {"next": target, "user": None, "email": email})


@router.post(
    "/login",
    summary="Log in (the login form)",
    **form_post(
        f"Logged in: {_NEXT}",
        fields={
            "email": {"type": "string"},
            "password": {"type": "string"},
            "next": {"type": "string"},
        },
    ),
)
async def login(
    request: Request, form: _CheckedForm, context: ContextDep, session: SessionDep
) -> Response:
    email = form.get("email", "").strip().lower()[:MAX_EMAIL_LENGTH]
    try:
        return await _login(request, context, session, form, email)
    except TooManyAttemptsError as error:
        return render_too_many(request, error)


async def _login(
    request: Request,
    context: ServerContext,
    session: AsyncSession,
    form: dict[str, str],
    email: str,
) -> Response:
    """Check the password under the throttle: the attempt is reserved before the hash runs
    (locked: not even a right password is tried), in this browser's own budget if it signed
    in to the account before (`devices`)."""
    target = safe_next(form.get("next"))
    user, password_hash = await run_sync(session, _credentials, email)
    await session.commit()  # ends the read: no pooled connection waits for argon2
    password = form.get("password", "")[:1024]
    settings, throttle = context.settings, context.throttle
    device = known_device(request, settings, email)
    subjects = login_subjects(throttle.policy, email=email, ip=client_ip(request), device=device)
    account = f"{email}\x00{password_hash or ''}"
    attempt = await throttle.begin(*subjects, password=(account, password))
    password_ok = not attempt.known_wrong and await run_in_threadpool(
        context.passwords.verify, password, password_hash
    )
    if user is None or not password_ok:
        error = "Wrong email or password."
        if password_ok:  # right, for a sign-up whose email is not confirmed yet
            await throttle.passed(attempt)
            error = "Confirm your email address first: follow the link we sent to it."
        else:
            await throttle.wrong(attempt)
        page = {"next": target, "email": email, "error": error, "user": None}
        return render(request, "login.html", page, status=400)
    await throttle.passed(attempt)
    response = see_other(target)
    await run_sync(session, start_session, response, settings=settings, user=user, request=request)
    remember_device(response, settings, email)
    return response


def _credentials(session: Session, email: str) -> tuple[User | None, str | None]:
    """The account of `email`, and the password hash to check: the account's, else that of
    an unconfirmed sign-up (to explain the refusal), else none (a dummy hash is checked)."""
    if not email:
        return None, None
    user = repository.get_user_by_email(session=session, email=email)
    if user is not None:
        return user, user.password_hash
    return None, unconfirmed_password_hash(session, email=email, now=utcnow())


@router.get("/signup", summary="Sign-up page", **html_page("The sign-up form"))
async def signup_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    return render(request, "signup.html", {"next": safe_next(next), "user": user})


@router.post(
    "/signup",
    summary="Sign up (the sign-up form)",
    **form_post(
        "To the page saying a confirmation link was sent",
        fields={k: {"type": "string"} for k in ("name", "email", "password", "next")},
    ),
)
async def signup(
    request: Request, form: _CheckedForm, context: ContextDep, session: SessionDep
) -> Response:
    """Answers alike for known and unknown emails: "check your email to finish"."""
    throttle, policy = context.throttle, context.throttle.policy
    password = form.get("password", "")
    try:
        await throttle.hit(policy.signup_ip, ip_key("signup", client_ip(request)))
        email = normalize_email(form.get("email", ""))
        await throttle.hit(policy.signup_email, account_key("signup", email))
        email, name = checked_account(email, password, form.get("name", ""))
    except TooManyAttemptsError as error:
        return render_too_many(request, error)
    except UserInputError as exc:
        return _signup_form(request, form, str(exc))
    # For known emails too (the same time taken), and off the event loop.
    password_hash = await run_in_threadpool(context.passwords.hash, password)
    settings = context.settings
    mail = await run_sync(
        session,
        start_signup,
        email=email,
        name=name,
        password_hash=password_hash,
        issuer=settings.issuer,
        ttl=settings.signup_link_ttl,
        now=utcnow(),
    )
    response = see_other("/signup/sent")
    response.background = BackgroundTask(context.mailer.send, mail)  # in a worker thread
    return response


def _signup_form(request: Request, form: dict[str, str], error: str) -> Response:
    page = {k: form.get(k) for k in ("name", "email")}
    context = {**page, "next": safe_next(form.get("next")), "error": error, "user": None}
    return render(request, "signup.html", context, status=400)


@router.get("/signup/sent", summary="Sign-up sent page", **html_page("Check your email"))
async def signup_sent(request: Request) -> Response:
    return render(request, "signup_sent.html", {"user": None})


@router.get(
    VERIFY_PATH,
    summary="Email confirmation page",
    **html_page("Confirm the account", errors={400: "The link is invalid or expired"}),
)
async def verify_page(request: Request, session: SessionDep, token: str = "") -> Response:
    pending = await run_sync(session, pending_signup, token=token, now=utcnow()) if token else None
    if pending is None:
        return _verify_page(request, error=_LINK_INVALID, status=400)
    return _verify_page(request, email=pending.email, token=token)


@router.post(
    VERIFY_PATH,
    summary="Confirm the account (the confirmation form)",
    **form_post(
        None,
        pages={200: "Confirmed: the page says so"},
        fields={"token": {"type": "string"}},
    ),
)
async def verify(request: Request, form: _CheckedForm, session: SessionDep) -> Response:
    user = await run_sync(session, finish_signup, token=form.get("token", ""), now=utcnow())
    if user is None:
        return _verify_page(request, error=_LINK_INVALID, status=400)
    return _verify_page(request, email=user.email, done=True)


_LINK_INVALID = "This link is invalid or has expired, or the account is already confirmed."


def _verify_page(request: Request, *, status: int = 200, **values: object) -> Response:
    return render(request, "signup_verify.html", {**values, "user": None}, status=status)


@router.get(
    "/logout", summary="Logout page", **html_page("Log out?", redirects="Not logged in: to /login")
)
async def logout_page(request: Request, user: OptionalUser) -> Response:
    if user is None:
        return see_other("/login")
    return render(request, "logout.html", {"user": user})


@router.post("/logout", summary="Log out (the logout form)", **form_post("To /login"))
async def logout(
    request: Request, form: _CheckedForm, context: ContextDep, session: SessionDep
) -> Response:
    response = see_other("/login")
    await run_sync(session, end_session, request, response, settings=context.settings)
    return response
