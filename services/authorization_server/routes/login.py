"""Sign-up, login and logout pages. Every successful credential POST answers 303."""

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from services.authorization_server import repository
from services.authorization_server.context import ServerContext
from services.authorization_server.deps import ContextDep, SessionDep
from services.authorization_server.endpoint_input import read_form
from services.authorization_server.models import User
from services.authorization_server.pages import render, render_error, safe_next, see_other
from services.authorization_server.users import UserInputError, create_user
from services.authorization_server.web_session import (
    OptionalUser,
    check_csrf,
    end_session,
    start_session,
)
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
def login_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    target = safe_next(next)
    if user is not None:
        return see_other(target)
    return render(request, "login.html", {"next": target, "user": None})


@router.post("/login")
async def login(request: Request) -> Response:
    context: ServerContext = request.app.state.context
    try:
        form = await _checked_form(request, context)
    except OAuthError as error:
        return render_error(request, error)
    return await run_in_threadpool(_login, request, context, form)


def _login(request: Request, context: ServerContext, form: dict[str, str]) -> Response:
    target = safe_next(form.get("next"))
    email = form.get("email", "")[:254]
    with Session(context.engine, expire_on_commit=False) as session:
        user = repository.get_user_by_email(session=session, email=email) if email else None
        password_ok = context.passwords.verify(
            form.get("password", "")[:1024], user.password_hash if user else None
        )
        if user is None or not password_ok:
            page = {"next": target, "email": email, "error": "Wrong email or password."}
            return render(request, "login.html", {**page, "user": None}, status=400)
        response = see_other(target)
        start_session(response, session=session, settings=context.settings, user=user)
        return response


@router.get("/signup")
def signup_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    return render(request, "signup.html", {"next": safe_next(next), "user": user})


@router.post("/signup")
async def signup(request: Request) -> Response:
    context: ServerContext = request.app.state.context
    try:
        form = await _checked_form(request, context)
    except OAuthError as error:
        return render_error(request, error)
    return await run_in_threadpool(_signup, request, context, form)


def _signup(request: Request, context: ServerContext, form: dict[str, str]) -> Response:
    target = safe_next(form.get("next"))
    with Session(context.engine, expire_on_commit=False) as session:
        try:
            user: User = create_user(
                session,
                passwords=context.passwords,
                email=form.get("email", ""),
                password=form.get("password", ""),
                name=form.get("name", ""),
            )
        except UserInputError as exc:
            page = {k: form.get(k) for k in ("name", "email")}
            return render(
                request,
                "signup.html",
                {**page, "next": target, "error": str(exc), "user": None},
                status=400,
            )
        response = see_other(target)
        start_session(response, session=session, settings=context.settings, user=user)
        return response


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
