"""Connect with Droplet Cloud: authorization code + PKCE, the dashboard, write access, refresh
and Disconnect."""

import time
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from services.demo_client import catalog
from services.demo_client.api import ApiCall
from services.demo_client.deps import BrowserDep, ContextDep, FormBrowser
from services.demo_client.explanations import steps
from services.demo_client.grants import CODE, SIGN_IN, authorization_code
from services.demo_client.grants.api_calls import call_api, refresh_now
from services.demo_client.grants.browser_state import granted_scopes
from services.demo_client.models import BrowserSession
from services.demo_client.pages import back_on_error, render, see_other, take_notice
from services.demo_client.routes import page, step
from shared.scopes import parse_scope

router = APIRouter()

SCOPES = {"read": "read", "write": "read write"}
PER_PAGE = 10


@router.get("/", summary="Home: the flows to try", **page("Home"))
def home(request: Request, browser: BrowserDep) -> Response:
    context = {"notice": take_notice(browser), "signed_in": browser.grants.get(SIGN_IN)}
    return render(request, "home.html", context, browser=browser)


@router.get(
    "/connect",
    summary="Connect: start the authorization code flow",
    **step("To the authorization endpoint, with state and PKCE", form=False),
)
def connect(ctx: ContextDep, browser: BrowserDep, access: str = "read") -> Response:
    """Step 2: send the browser to the authorization endpoint with state and PKCE."""
    wanted = parse_scope(SCOPES.get(access, "read"))
    return see_other(authorization_code.connect(ctx, browser, wanted=wanted))


@router.get(
    "/callback",
    summary="The redirect URI of the code flow",
    **step("To the dashboard, once the code is exchanged for tokens", form=False),
)
def callback(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    """Step 4: the redirect back, with code and state (or error and state)."""
    params = dict(request.query_params.items())
    with back_on_error("/dashboard" if browser.grants.get(CODE) else "/"):
        return see_other(authorization_code.receive_code(ctx, browser, params))


@router.get(
    "/dashboard",
    summary="Dashboard: the account and droplets, from the API",
    **page("The dashboard", redirects="Not connected: to the home page"),
)
def dashboard(
    ctx: ContextDep,
    browser: BrowserDep,
    request: Request,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Step 6: the user's account and droplets (a page at a time), from the resource server."""
    if not browser.grants.get(CODE):
        return see_other("/")
    query = {"page": str(page), "per_page": str(PER_PAGE)}
    try:
        account = call_api(ctx, browser, "GET", "/v2/account")
        droplets = call_api(ctx, browser, "GET", "/v2/droplets", params=query)
    finally:
        notice = take_notice(browser)  # an error page takes this page's place, notice and all
    context = {
        "notice": notice,
        "account": account,
        "droplets": droplets,
        "grant": browser.grants.get(CODE),
        "can_write": "write" in granted_scopes(browser),
        "catalog": catalog,
        "page": page,
        "now": time.time(),
        "flow": browser.flows.get(CODE),
    }
    return render(request, "dashboard.html", context, browser=browser)


@router.get("/write-access", summary="Why write access is asked for", **page("The explanation"))
def write_access(browser: BrowserDep, request: Request) -> Response:
    """Why Dropletbook asks again before it can create or delete droplets."""
    return render(request, "write_access.html", {"reason": steps.WRITE_REASON}, browser=browser)


def _after_write(browser: BrowserSession, call: ApiCall, message: str) -> Response:
    if call.scope_too_small:
        return see_other("/write-access")
    browser.notice = message
    return see_other("/dashboard")


@router.post(
    "/droplets",
    summary="Create a droplet (a form)",
    **step("To the dashboard, saying what happened; or to /write-access"),
)
def create_droplet(
    ctx: ContextDep,
    browser: FormBrowser,
    name: Annotated[str, Form()],
    region: Annotated[str, Form()],
    size: Annotated[str, Form()],
    image: Annotated[str, Form()],
) -> Response:
    """`POST /v2/droplets` needs the write scope."""
    if "write" not in granted_scopes(browser):
        return see_other("/write-access")
    droplet = {"name": name.strip(), "region": region, "size": size, "image": image}
    call = call_api(ctx, browser, "POST", "/v2/droplets", json=droplet)
    message = steps.droplet_created(droplet["name"], call.ok, call.why_refused)
    return _after_write(browser, call, message)


@router.post(
    "/droplets/{droplet_id}/delete",
    summary="Delete a droplet (a form)",
    **step("To the dashboard, saying what happened; or to /write-access"),
)
def delete_droplet(ctx: ContextDep, browser: FormBrowser, droplet_id: int) -> Response:
    """`DELETE /v2/droplets/{id}` needs the write scope."""
    if "write" not in granted_scopes(browser):
        return see_other("/write-access")
    call = call_api(ctx, browser, "DELETE", f"/v2/droplets/{droplet_id}")
    return _after_write(browser, call, steps.droplet_deleted(call.ok, call.why_refused))


@router.post(
    "/refresh",
    summary="Refresh now: run the refresh grant (a form)",
    **step("To the dashboard, saying that the tokens rotated"),
)
def refresh(ctx: ContextDep, browser: FormBrowser) -> Response:
    """Step 7 on request: a new access token, and the refresh token rotated."""
    with back_on_error("/"):
        refresh_now(ctx, browser)
    browser.notice = steps.REFRESHED
    return see_other("/dashboard")


@router.post(
    "/disconnect",
    summary="Disconnect: revoke the tokens (a form)",
    **step("To the home page"),
)
def disconnect(ctx: ContextDep, browser: FormBrowser) -> Response:
    """Revoke the tokens at Droplet Cloud (RFC 7009) and forget them."""
    authorization_code.disconnect(ctx, browser)
    return see_other("/")
