"""Rendering the HTML pages with the headers every page carries."""

from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse

from services.authorization_server.throttle import TooManyAttemptsError
from services.authorization_server.web_session import csrf_token
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


def render(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> Response:
    settings = request.app.state.context.settings
    cookies = Response()
    token = csrf_token(request, cookies, settings)
    response = _templates.TemplateResponse(
        request, name, {**context, "csrf_token": token}, status_code=status, headers=PAGE_HEADERS
    )
    for value in cookies.headers.getlist("set-cookie"):
        response.headers.append("set-cookie", value)
    return response


def render_error(request: Request, error: OAuthError) -> Response:
    return render(
        request,
        "error.html",
        {"error": error.error, "description": error.description},
        status=error.status_code,
    )


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
