"""The client credentials grant: Dropletbook reads and updates its own registration."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from services.demo_client import flows
from services.demo_client.deps import BrowserDep, ContextDep
from services.demo_client.flows import SERVICE, FlowError
from services.demo_client.oauth import apps_api_resource
from services.demo_client.pages import (
    BAD_FORM,
    csrf_ok,
    render_error,
    render_flow_page,
    see_other,
)

router = APIRouter(prefix="/client-credentials")


@router.get("")
def client_credentials_page(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    registration = None
    if browser.grants.get(SERVICE):
        registration = flows.read_registration(ctx, browser)
    return render_flow_page(
        request,
        browser,
        flow=SERVICE,
        template="client_credentials.html",
        form=True,
        registration=registration,
    )


@router.post("/token")
def get_token(
    ctx: ContextDep, browser: BrowserDep, request: Request, csrf_token: Annotated[str, Form()]
) -> Response:
    if not csrf_ok(browser, csrf_token):
        return render_error(request, BAD_FORM, browser)
    try:
        # RFC 8707: a token for the server's own API, not the cloud API's default audience.
        resource = apps_api_resource(ctx.settings.issuer)
        flows.service_token(ctx, browser, scope="read write", resource=resource)
    except FlowError as error:
        return render_error(request, error, browser)
    finally:
        ctx.store.save(browser)
    return see_other("/client-credentials")


@router.post("/registration")
def update_registration(
    ctx: ContextDep,
    browser: BrowserDep,
    request: Request,
    csrf_token: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
    redirect_uris: Annotated[str, Form()] = "",
) -> Response:
    if not csrf_ok(browser, csrf_token):
        return render_error(request, BAD_FORM, browser)
    uris = [line.strip() for line in redirect_uris.splitlines() if line.strip()]
    try:
        call = flows.update_registration(ctx, browser, description=description, redirect_uris=uris)
    except FlowError as error:
        error.back = "/client-credentials"
        return render_error(request, error, browser)
    finally:
        ctx.store.save(browser)
    browser.notice = (
        "Registration updated through PATCH /v1/apps/self."
        if call.ok
        else f"Droplet Cloud refused the update: {call.error_description or call.error}"
    )
    ctx.store.save(browser)
    return see_other("/client-credentials")
