"""Connect with Droplet Cloud: authorization code + PKCE, the dashboard, write access, refresh
and Disconnect."""

import time
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from services.demo_client import catalog, flows
from services.demo_client.deps import BrowserDep, ContextDep
from services.demo_client.flows import CODE, FlowError
from services.demo_client.models import BrowserSession
from services.demo_client.pages import (
    BAD_FORM,
    csrf_ok,
    render,
    render_error,
    see_other,
    take_notice,
)

router = APIRouter()

SCOPES = {"read": "read", "write": "read write"}
PER_PAGE = 10
WRITE_REASON = (
    "Creating or deleting a droplet needs the write scope. You gave Dropletbook read access "
    "only, so it asks Droplet Cloud again, this time for read and write (incremental "
    "authorization). Droplet Cloud shows the consent screen with Read and Write."
)


@router.get("/")
def home(request: Request, browser: BrowserDep, ctx: ContextDep) -> Response:
    notice = take_notice(browser)
    ctx.store.save(browser)
    return render(request, "home.html", {"notice": notice}, browser=browser)


@router.get("/connect")
def connect(
    ctx: ContextDep, browser: BrowserDep, request: Request, access: str = "read"
) -> Response:
    """Step 2: send the browser to the authorization endpoint with state and PKCE."""
    scope = SCOPES.get(access, "read")
    reason = WRITE_REASON if access == "write" else ""
    try:
        url = flows.start_authorization(ctx, browser, flow=CODE, scope=scope, reason=reason)
    except FlowError as error:
        return render_error(request, error, browser)
    finally:
        ctx.store.save(browser)
    return see_other(url)


@router.get("/callback")
def callback(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    """Step 4: the redirect back, with code and state (or error and state)."""
    params = dict(request.query_params.items())
    try:
        next_url = flows.finish_code_flow(ctx, browser, params)
    except FlowError as error:
        error.back = "/dashboard" if browser.grants.get(CODE) else "/"
        return render_error(request, error, browser)
    finally:
        ctx.store.save(browser)
    return see_other(next_url)


@router.get("/dashboard")
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
        account = flows.call_api(ctx, browser, "GET", "/v2/account")
        droplets = flows.call_api(ctx, browser, "GET", "/v2/droplets", params=query)
    except FlowError as error:
        return render_error(request, error, browser)
    finally:
        notice = take_notice(browser)
        ctx.store.save(browser)
    context = {
        "notice": notice,
        "account": account,
        "droplets": droplets,
        "grant": browser.grants.get(CODE),
        "can_write": "write" in flows.granted_scopes(browser),
        "catalog": catalog,
        "page": page,
        "now": time.time(),
        "flow": browser.flows.get(CODE),
    }
    return render(request, "dashboard.html", context, browser=browser)


@router.get("/write-access")
def write_access(browser: BrowserDep, request: Request) -> Response:
    """Why Dropletbook asks again before it can create or delete droplets."""
    return render(request, "write_access.html", {"reason": WRITE_REASON}, browser=browser)


def _after_write(browser: BrowserSession, scope_too_small: bool, message: str) -> Response:
    if scope_too_small:
        return see_other("/write-access")
    browser.notice = message
    return see_other("/dashboard")


@router.post("/droplets")
def create_droplet(
    ctx: ContextDep,
    browser: BrowserDep,
    request: Request,
    csrf_token: Annotated[str, Form()],
    name: Annotated[str, Form()],
    region: Annotated[str, Form()],
    size: Annotated[str, Form()],
    image: Annotated[str, Form()],
) -> Response:
    """`POST /v2/droplets` needs the write scope."""
    if not csrf_ok(browser, csrf_token):
        return render_error(request, BAD_FORM, browser)
    if "write" not in flows.granted_scopes(browser):
        return see_other("/write-access")
    droplet = {"name": name.strip(), "region": region, "size": size, "image": image}
    try:
        call = flows.call_api(ctx, browser, "POST", "/v2/droplets", json=droplet)
    except FlowError as error:
        return render_error(request, error, browser)
    finally:
        ctx.store.save(browser)
    message = (
        f"Droplet {droplet['name']} created."
        if call.ok
        else f"Droplet Cloud refused the droplet: {call.error_description or call.error}"
    )
    response = _after_write(browser, call.scope_too_small, message)
    ctx.store.save(browser)
    return response


@router.post("/droplets/{droplet_id}/delete")
def delete_droplet(
    ctx: ContextDep,
    browser: BrowserDep,
    request: Request,
    droplet_id: int,
    csrf_token: Annotated[str, Form()],
) -> Response:
    """`DELETE /v2/droplets/{id}` needs the write scope."""
    if not csrf_ok(browser, csrf_token):
        return render_error(request, BAD_FORM, browser)
    if "write" not in flows.granted_scopes(browser):
        return see_other("/write-access")
    try:
        call = flows.call_api(ctx, browser, "DELETE", f"/v2/droplets/{droplet_id}")
    except FlowError as error:
        return render_error(request, error, browser)
    finally:
        ctx.store.save(browser)
    message = (
        "Droplet deleted."
        if call.ok
        else f"Droplet Cloud refused: {call.error_description or call.error}"
    )
    response = _after_write(browser, call.scope_too_small, message)
    ctx.store.save(browser)
    return response


@router.post("/disconnect")
def disconnect(
    ctx: ContextDep, browser: BrowserDep, request: Request, csrf_token: Annotated[str, Form()]
) -> Response:
    """Revoke the tokens at Droplet Cloud (RFC 7009) and forget them."""
    if not csrf_ok(browser, csrf_token):
        return render_error(request, BAD_FORM, browser)
    try:
        flows.disconnect(ctx, browser)
    except FlowError as error:
        return render_error(request, error, browser)
    finally:
        ctx.store.save(browser)
    return see_other("/")
