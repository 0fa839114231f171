"""The implicit grant: token in the URL fragment, read by a script on the callback page."""

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from services.demo_client.context import ClientContext
from services.demo_client.deps import BrowserDep, ContextDep
from services.demo_client.explanations import steps
from services.demo_client.grants import IMPLICIT, implicit
from services.demo_client.grants.api_calls import read_account
from services.demo_client.grants.front_channel import start_authorization
from services.demo_client.models import BrowserSession
from services.demo_client.pages import (
    back_on_error,
    check_form,
    render,
    render_flow_page,
    see_other,
)
from services.demo_client.routes import page, step

router = APIRouter(prefix="/implicit")


@router.get("", summary="The implicit flow", **page("The implicit flow page"))
def implicit_page(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    account = read_account(ctx, browser, IMPLICIT)
    return render_flow_page(
        request, browser, flow=IMPLICIT, template="implicit.html", account=account
    )


@router.get(
    "/start",
    summary="Start the implicit flow",
    **step("To the authorization endpoint", form=False),
)
def start(ctx: ContextDep, browser: BrowserDep) -> Response:
    return see_other(start_authorization(ctx, browser, flow=IMPLICIT, scope="read"))


@router.get(
    "/callback",
    summary="The redirect URI of the implicit flow",
    **page("A page whose script reads the token in the URL fragment"),
)
def callback(browser: BrowserDep, request: Request) -> Response:
    """A page whose script reads `location.hash` and posts it to `/implicit/token`."""
    browser.form_shown = True  # its form's CSRF token needs the session
    return render(request, "implicit_callback.html", {}, browser=browser, scripts=True)


@router.post(
    "/token",
    summary="The token the callback page found (a form)",
    **step("To the implicit flow page"),
)
async def receive(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    """Steps 5-6: what the callback page's script found in the fragment."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    await run_in_threadpool(_receive, ctx, browser, form)
    return see_other("/implicit")


def _receive(ctx: ClientContext, browser: BrowserSession, form: dict[str, str]) -> None:
    check_form(browser, form.pop("csrf_token", ""))
    with back_on_error("/implicit"):
        implicit.receive_token(ctx, browser, form)
    browser.notice = steps.IMPLICIT_DONE
