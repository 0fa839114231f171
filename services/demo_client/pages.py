"""Rendering pages with the headers every page carries."""

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse, Response

from services.demo_client.context import ClientContext
from services.demo_client.errors import FlowError
from services.demo_client.explanations import refusals
from services.demo_client.explanations.steps import FLOW_TITLES
from services.demo_client.grants import CODE
from services.demo_client.models import BrowserSession

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def page_headers(settings_issuer: str, *, scripts: bool = False) -> dict[str, str]:
    """No script anywhere except the implicit callback page, which runs our own file only."""
    script_src = "'self'" if scripts else "'none'"
    return {
        "Content-Security-Policy": (
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            f"script-src {script_src}; connect-src 'self'; frame-ancestors 'none'; "
            f"base-uri 'none'; form-action 'self' {settings_issuer}"
        ),
        "X-Frame-Options": "DENY",
        # Callback URLs carry codes and tokens: never leak them in a Referer header.
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    browser: BrowserSession | None = None,
    status: int = 200,
    scripts: bool = False,
) -> Response:
    ctx: ClientContext = request.app.state.context
    values = {
        "settings": ctx.settings,
        "browser": browser,
        "csrf_token": browser.csrf_token if browser else "",
        "flow_titles": FLOW_TITLES,
        "connected": bool(browser and browser.grants.get(CODE)),
        **context,
    }
    return templates.TemplateResponse(
        request,
        name,
        values,
        status_code=status,
        headers=page_headers(ctx.settings.issuer, scripts=scripts),
    )


def render_error(request: Request, error: FlowError, browser: BrowserSession | None) -> Response:
    return render(
        request,
        "error.html",
        {"error": error, "flow": None},
        browser=browser,
        status=error.status,
    )


def see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers={"Referrer-Policy": "no-referrer"})


def check_form(browser: BrowserSession, csrf_token: str) -> None:
    """A form must come from a page of this session (its CSRF token)."""
    if not hmac.compare_digest(browser.csrf_token.encode(), csrf_token.encode()):
        raise FlowError.of(refusals.BAD_FORM)


@contextmanager
def back_on_error(url: str) -> Iterator[None]:
    """The error page of a step that fails in this block links back to `url`."""
    try:
        yield
    except FlowError as error:
        error.back = url
        raise


def take_notice(browser: BrowserSession) -> str:
    notice, browser.notice = browser.notice, ""
    return notice


def render_flow_page(
    request: Request,
    browser: BrowserSession,
    *,
    flow: str,
    template: str,
    form: bool = False,
    **shown: Any,
) -> Response:
    """A grant's page: what it shows (`shown`), the pending notice, the grant and the flow's
    recorded steps. A page with a CSRF-protected `form` keeps even a new session."""
    browser.form_shown = form
    context = {
        "notice": take_notice(browser),
        "grant": browser.grants.get(flow),
        "flow": browser.flows.get(flow),
        **shown,
    }
    return render(request, template, context, browser=browser)
