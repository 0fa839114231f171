"""Sign-up, login and logout pages. Every successful credential POST answers 303."""

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import ContextDep, SessionDep
from services.authorization_server.pages import (
    render,
    render_error,
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
)
from services.authorization_server.users import (
    MAX_EMAIL_LENGTH,
    VERIFY_PATH,
    UserInputError,
    finish_signup,
    normalize_email,
    pending_signup,
    start_signup,
    unconfirmed_password_hash,
)
from services.authorization_server.web_session import (
    OptionalUser,
    check_csrf,
    end_session,
    start_session,
)
from shared.db import utcnow
from shared.errors import OAuthError

router = APIRouter(tags=["pages"], include_in_schema=False)


async def _checked_form(request: Request, context: ServerContext) -> dict[str, str]:
    form = await read_form(request, max_bytes=context.settings.max_body_bytes)
    check_csrf(request, context.settings, form.pop("csrf_token", None))
    return form


@router.get("/")
def home(user: OptionalUser) -> Response:
    return see_other("/account/applications" if user else "/login")


@router.get("/login")
def login_page(
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


@router.post("/login")
async def login(request: Request, context: ContextDep, session: SessionDep) -> Response:
    try:
        form = await _checked_form(request, context)
    except OAuthError as error:
        return render_error(request, error)
    email = form.get("email", "").strip().lower()[:MAX_EMAIL_LENGTH]
    throttle, policy = context.throttle, context.throttle.policy
    account, ip = account_key("password", email), ip_key("password", client_ip(request))
    try:
        await throttle.check(account, ip)  # locked: not even a right password is tried
        response, outcome = await run_in_threadpool(_login, request, context, session, form, email)
        if outcome is False:
            await throttle.failed((policy.account, account), (policy.ip, ip))
        elif outcome:
            await throttle.succeeded(account)
    except TooManyAttemptsError as error:
        return render_too_many(request, error)
    return response


def _login(
    request: Request, context: ServerContext, session: Session, form: dict[str, str], email: str
) -> tuple[Response, bool | None]:
    """The answer, and whether the password was right (None: right, but for a sign-up
    whose email is not confirmed yet)."""
    target = safe_next(form.get("next"))
    now = utcnow()
    user = repository.get_user_by_email(session=session, email=email) if email else None
    if user is not None:
        password_hash: str | None = user.password_hash
    elif email:
        password_hash = unconfirmed_password_hash(session, email=email, now=now)
    else:
        password_hash = None
    password_ok = context.passwords.verify(form.get("password", "")[:1024], password_hash)
    if user is None or not password_ok:
        error = "Wrong email or password."
        if password_ok:
            error = "Confirm your email address first: follow the link we sent to it."
        page = {"next": target, "email": email, "error": error, "user": None}
        outcome = None if password_ok else False
        return render(request, "login.html", page, status=400), outcome
    response = see_other(target)
    start_session(response, session=session, settings=context.settings, user=user, request=request)
    return response, True


@router.get("/signup")
def signup_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    return render(request, "signup.html", {"next": safe_next(next), "user": user})


@router.post("/signup")
async def signup(request: Request, context: ContextDep, session: SessionDep) -> Response:
    """Answers alike for known and unknown emails: "check your email to finish"."""
    try:
        form = await _checked_form(request, context)
    except OAuthError as error:
        return render_error(request, error)
    throttle, policy = context.throttle, context.throttle.policy
    try:
        await throttle.hit(policy.signup_ip, ip_key("signup", client_ip(request)))
        email = normalize_email(form.get("email", ""))
        await throttle.hit(policy.signup_email, account_key("signup", email))
    except TooManyAttemptsError as error:
        return render_too_many(request, error)
    except UserInputError as exc:
        return _signup_form(request, form, str(exc))
    return await run_in_threadpool(_signup, request, context, session, form)


def _signup_form(request: Request, form: dict[str, str], error: str) -> Response:
    page = {k: form.get(k) for k in ("name", "email")}
    context = {**page, "next": safe_next(form.get("next")), "error": error, "user": None}
    return render(request, "signup.html", context, status=400)


def _signup(
    request: Request, context: ServerContext, session: Session, form: dict[str, str]
) -> Response:
    settings = context.settings
    try:
        mail = start_signup(
            session,
            passwords=context.passwords,
            email=form.get("email", ""),
            password=form.get("password", ""),
            name=form.get("name", ""),
            issuer=settings.issuer,
            ttl=settings.signup_link_ttl,
            now=utcnow(),
        )
    except UserInputError as exc:
        return _signup_form(request, form, str(exc))
    response = see_other("/signup/sent")
    response.background = BackgroundTask(context.mailer.send, mail)  # after the answer
    return response


@router.get("/signup/sent")
def signup_sent(request: Request) -> Response:
    return render(request, "signup_sent.html", {"user": None})


@router.get(VERIFY_PATH)
def verify_page(
    request: Request, context: ContextDep, session: SessionDep, token: str = ""
) -> Response:
    pending = pending_signup(session, token=token, now=utcnow()) if token else None
    if pending is None:
        return _verify_page(request, error=_LINK_INVALID, status=400)
    return _verify_page(request, email=pending.email, token=token)


@router.post(VERIFY_PATH)
async def verify(request: Request, context: ContextDep, session: SessionDep) -> Response:
    try:
        form = await _checked_form(request, context)
    except OAuthError as error:
        return render_error(request, error)
    return await run_in_threadpool(_verify, request, session, form.get("token", ""))


def _verify(request: Request, session: Session, token: str) -> Response:
    user = finish_signup(session, token=token, now=utcnow())
    if user is None:
        return _verify_page(request, error=_LINK_INVALID, status=400)
    return _verify_page(request, email=user.email, done=True)


_LINK_INVALID = "This link is invalid or has expired, or the account is already confirmed."


def _verify_page(request: Request, *, status: int = 200, **values: object) -> Response:
    return render(request, "signup_verify.html", {**values, "user": None}, status=status)


@router.get("/logout")
def logout_page(request: Request, user: OptionalUser) -> Response:
    if user is None:
        return see_other("/login")
    return render(request, "logout.html", {"user": user})


@router.post("/logout")
async def logout(request: Request, context: ContextDep, session: SessionDep) -> Response:
    try:
        await _checked_form(request, context)
    except OAuthError as error:
        return render_error(request, error)
    response = see_other("/login")
    end_session(request, response, session=session, settings=context.settings)
    return response
