"""Rendering the HTML pages with the headers every page carries."""

import base64
import binascii
import json
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse

from services.authorization_server.throttle import TooManyAttemptsError
from services.authorization_server.web_session import csrf_token
from shared.crypto import sign_value, signature_matches
from shared.errors import OAuthError

_templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

# Pages refuse framing (clickjacking on consent) and never leak URLs with codes in Referer.
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "script-src 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


NOTICE_COOKIE = "as_notice"
_NOTICE_TTL = 60


def render(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> Response:
    """A page, with this browser's CSRF token and the one-time notice meant for it, if any."""
    settings = request.app.state.context.settings
    cookies = Response()
    token = csrf_token(request, cookies, settings)
    notice = _take_notice(request, cookies)
    page = {**context, "csrf_token": token, "notice": notice}
    response = _templates.TemplateResponse(
        request, name, page, status_code=status, headers=PAGE_HEADERS
    )
    for value in cookies.headers.getlist("set-cookie"):
        response.headers.append("set-cookie", value)
    return response


def _notice_secret(request: Request) -> bytes:
    secret: str = request.app.state.context.settings.secret_key.get_secret_value()
    return ("notice:" + secret).encode("utf-8")


def with_notice(request: Request, response: Response, *, path: str, text: str) -> Response:
    """Say `text` once on the page at `path` (where `response` redirects): what just happened.

    The notice travels in a short-lived cookie scoped to that page, signed with the server
    secret so that a planted cookie can never put words on our pages."""
    payload = json.dumps({"path": path, "text": text}).encode("utf-8")
    value = base64.urlsafe_b64encode(payload).decode("ascii")
    signed = f"{value}.{sign_value(_notice_secret(request), value)}"
    settings = request.app.state.context.settings
    response.set_cookie(
        NOTICE_COOKIE,
        signed,
        max_age=_NOTICE_TTL,
        path=path,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )
    return response


def _take_notice(request: Request, response: Response) -> str | None:
    """The notice for this page, cleared as it is shown; a forged or foreign one is ignored."""
    value, _, signature = (request.cookies.get(NOTICE_COOKIE) or "").partition(".")
    if not (value and signature and signature_matches(_notice_secret(request), value, signature)):
        return None
    try:
        notice = json.loads(base64.urlsafe_b64decode(value))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(notice, dict) or notice.get("path") != request.url.path:
        return None
    response.delete_cookie(NOTICE_COOKIE, path=request.url.path)
    text = notice.get("text")
    return text if isinstance(text, str) else None


def render_confirm(
    request: Request,
    user: Any,
    *,
    title: str,
    question: str,
    consequences: list[str],
    button: str,
    cancel: str,
) -> Response:
    """A destructive action's confirmation page: its form POSTs (with CSRF) to this same path,
    which alone acts; the page itself changes nothing."""
    page = {
        "user": user,
        "title": title,
        "question": question,
        "consequences": consequences,
        "action": request.url.path,
        "button": button,
        "cancel": cancel,
    }
    return render(request, "confirm.html", page)


def render_error(request: Request, error: OAuthError) -> Response:
    """The error as a page, with its `Retry-After` if it has one (503 while the throttle's
    Redis is unreachable)."""
    response = render(
        request,
        "error.html",
        {"error": error.error, "description": error.description},
        status=error.status_code,
    )
    retry_after = error.headers().get("Retry-After")
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def render_too_many(request: Request, error: TooManyAttemptsError) -> Response:
    """429 with `Retry-After`, as a page a person can read."""
    minutes = -(-error.retry_after // 60)
    response = render(request, "throttled.html", {"minutes": minutes, "user": None}, status=429)
    response.headers.update(error.headers())
    return response


def see_other(url: str) -> Response:
    """303 after a POST, so that reloading never resubmits credentials."""
    return RedirectResponse(url, status_code=303, headers={"Referrer-Policy": "no-referrer"})


def safe_next(value: str | None, default: str = "/account/applications") -> str:
    """Only same-site relative paths: `next=` must never become an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(ch) < 0x21 for ch in value):
        return default
    return value


class Link(NamedTuple):
    href: str
    host: str


def url_host(url: str) -> str:
    """The host (and port) of a URL: what a page shows of a client's URL, so that userinfo
    (`https://trusted.example@evil.example/`) can never pose as the destination."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}" if port is not None and host else host


def website_link(url: str) -> Link | None:
    """An http(s) website as a link to, and labelled with, its host; userinfo dropped."""
    host = url_host(url)
    parts = urlsplit(url) if host else None
    if parts is None or parts.scheme not in ("http", "https"):
        return None
    return Link(urlunsplit(parts._replace(netloc=host)), host)
