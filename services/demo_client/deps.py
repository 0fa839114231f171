"""Request dependencies: they look things up and check a form's CSRF token; the browser
session is also saved, once, when the route is done."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request

from services.demo_client.context import ClientContext
from services.demo_client.models import BrowserSession
from services.demo_client.pages import check_form


@dataclass
class SessionCookie:
    """Put on `request.state` by the middleware: the id the browser presented, and the session
    the request used, whose (possibly new) id the middleware sends back."""

    presented: str | None
    browser: BrowserSession | None = None


def get_context(request: Request) -> ClientContext:
    context: ClientContext = request.app.state.context
    return context


def get_browser(request: Request) -> Iterator[BrowserSession]:
    """The session the cookie names if this server issued it, else a new one. Saved when the
    route returns or raises (a failed step is worth keeping for the inspector); `save` writes
    only what changed and stores a new session only when there is something to keep."""
    context: ClientContext = request.app.state.context
    cookie: SessionCookie = request.state.session_cookie
    cookie.browser = browser = context.store.load(cookie.presented)
    try:
        yield browser
    finally:
        context.store.save(browser)


ContextDep = Annotated[ClientContext, Depends(get_context)]
# "function" scope: saved before the response is sent, so the cookie can carry a new id.
BrowserDep = Annotated[BrowserSession, Depends(get_browser, scope="function")]


def form_browser(browser: BrowserDep, csrf_token: Annotated[str, Form()]) -> BrowserSession:
    """The browser session of a form POST, once the form's CSRF token is this session's."""
    check_form(browser, csrf_token)
    return browser


# A form POST's browser session: `csrf_token` is a field of every form body it is in.
FormBrowser = Annotated[BrowserSession, Depends(form_browser)]
