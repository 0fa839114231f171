"""The resource owner password credentials grant, for the trusted first-party client."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from services.demo_client import flows
from services.demo_client.deps import BrowserDep, ContextDep
from services.demo_client.flows import PASSWORD, FlowError
from services.demo_client.pages import (
    BAD_FORM,
    csrf_ok,
    render_error,
    render_flow_page,
    see_other,
)

router = APIRouter(prefix="/password")


@router.get("")
def password_page(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    account = None
    if browser.grants.get(PASSWORD):
        account = flows.call_api(ctx, browser, "GET", "/v2/account", key=PASSWORD)
    return render_flow_page(
        request, browser, flow=PASSWORD, template="password.html", form=True, account=account
    )


@router.post("")
def password_login(
    ctx: ContextDep,
    browser: BrowserDep,
    request: Request,
    csrf_token: Annotated[str, Form()],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    if not csrf_ok(browser, csrf_token):
        return render_error(request, BAD_FORM, browser)
    try:
        flows.password_grant(ctx, browser, username=username, password=password, scope="read")
    except FlowError as error:
        return render_error(request, error, browser)
    finally:
        ctx.store.save(browser)
    return see_other("/password")
