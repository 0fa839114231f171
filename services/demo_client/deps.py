"""Request dependencies: they only look things up."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.demo_client.context import ClientContext
from services.demo_client.models import BrowserSession


@dataclass
class SessionCookie:
    """Put on `request.state` by the middleware: the id the browser presented, and the session
    the request used, whose (possibly new) id the middleware sends back."""

    presented: str | None
    browser: BrowserSession | None = None


def get_context(request: Request) -> ClientContext:
    context: ClientContext = request.app.state.context
    return context


def get_browser(request: Request) -> BrowserSession:
    """The session the cookie names if this server issued it, else a new one."""
    context: ClientContext = request.app.state.context
    cookie: SessionCookie = request.state.session_cookie
    cookie.browser = context.store.load(cookie.presented)
    return cookie.browser


ContextDep = Annotated[ClientContext, Depends(get_context)]
BrowserDep = Annotated[BrowserSession, Depends(get_browser)]
