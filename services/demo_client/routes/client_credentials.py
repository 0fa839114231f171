"""The client credentials grant: Dropletbook gets an app token and reads and updates its own
registration."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from services.demo_client.deps import BrowserDep, ContextDep, FormBrowser
from services.demo_client.explanations import steps
from services.demo_client.grants import CLIENT_CREDENTIALS, client_credentials
from services.demo_client.pages import back_on_error, render_flow_page, see_other
from services.demo_client.routes import page, step

router = APIRouter(prefix="/client-credentials")


@router.get(
    "",
    summary="The client credentials flow",
    **page("The client credentials flow page"),
)
def client_credentials_page(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    registration = None
    if browser.grants.get(CLIENT_CREDENTIALS):
        registration = client_credentials.read_registration(ctx, browser)
    return render_flow_page(
        request,
        browser,
        flow=CLIENT_CREDENTIALS,
        template="client_credentials.html",
        form=True,
        registration=registration,
    )


@router.post(
    "/token",
    summary="Get an app token (a form)",
    **step("To the client credentials page"),
)
def get_app_token(ctx: ContextDep, browser: FormBrowser) -> Response:
    client_credentials.request_app_token(ctx, browser, scope="read write")
    return see_other("/client-credentials")


@router.post(
    "/registration",
    summary="Update the app's registration (a form)",
    **step("To the client credentials page, saying what happened"),
)
def update_registration(
    ctx: ContextDep,
    browser: FormBrowser,
    description: Annotated[str, Form()] = "",
    redirect_uris: Annotated[str, Form()] = "",
) -> Response:
    uris = [line.strip() for line in redirect_uris.splitlines() if line.strip()]
    with back_on_error("/client-credentials"):
        call = client_credentials.update_registration(
            ctx, browser, description=description, redirect_uris=uris
        )
    browser.notice = steps.registration_updated(call.ok, call.why_refused)
    return see_other("/client-credentials")
