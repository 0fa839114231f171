"""The implicit grant: token in the URL fragment, read by a script on the callback page."""

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from services.demo_client import flows
from services.demo_client.context import ClientContext
from services.demo_client.deps import BrowserDep, ContextDep
from services.demo_client.flows import IMPLICIT, FlowError
from services.demo_client.models import BrowserSession
from services.demo_client.pages import (
    BAD_FORM,
    csrf_ok,
    render,
    render_error,
    render_flow_page,
    see_other,
)

router = APIRouter(prefix="/implicit")


@router.get("")
def implicit_page(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    account = None
    if browser.grants.get(IMPLICIT):
        account = flows.call_api(ctx, browser, "GET", "/v2/account", key=IMPLICIT)
    return render_flow_page(
        request, browser, flow=IMPLICIT, template="implicit.html", account=account
    )


@router.get("/start")
def start(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    try:
        url = flows.start_authorization(ctx, browser, flow=IMPLICIT, scope="read")
    except FlowError as error:
        return render_error(request, error, browser)
    finally:
        ctx.store.save(browser)
    return see_other(url)


@router.get("/callback")
def callback(browser: BrowserDep, ctx: ContextDep, request: Request) -> Response:
    """A page whose script reads `location.hash` and posts it to `/implicit/token`."""
    ctx.store.save(browser, keep=True)  # its form's CSRF token needs the session
    return render(request, "implicit_callback.html", {}, browser=browser, scripts=True)


@router.post("/token")
async def receive(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    """Steps 5-6: what the callback page's script found in the fragment."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    return await run_in_threadpool(_receive, ctx, browser, request, form)


def _receive(
    ctx: ClientContext, browser: BrowserSession, request: Request, form: dict[str, str]
) -> Response:
    if not csrf_ok(browser, form.pop("csrf_token", "")):
        return render_error(request, BAD_FORM, browser)
    try:
        flows.receive_implicit_token(ctx, browser, form)
    except FlowError as error:
        error.back = "/implicit"
        return render_error(request, error, browser)
    finally:
        ctx.store.save(browser)
    browser.notice = "The implicit flow gave Dropletbook a read-only access token."
    ctx.store.save(browser)
    return see_other("/implicit")
