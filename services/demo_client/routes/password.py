"""The resource owner password credentials grant, for the trusted first-party client."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from services.demo_client.deps import BrowserDep, ContextDep, FormBrowser
from services.demo_client.grants import PASSWORD
from services.demo_client.grants import password as password_grant
from services.demo_client.grants.api_calls import read_account
from services.demo_client.pages import render_flow_page, see_other
from services.demo_client.routes import page, step

router = APIRouter(prefix="/password")


@router.get("", summary="The password flow", **page("The password flow page"))
def password_page(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    account = read_account(ctx, browser, PASSWORD)
    return render_flow_page(
        request, browser, flow=PASSWORD, template="password.html", form=True, account=account
    )


@router.post(
    "",
    summary="Log in with the password grant (a form)",
    **step("To the password flow page"),
)
def password_login(
    ctx: ContextDep,
    browser: FormBrowser,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    password_grant.request_token(ctx, browser, username=username, password=password, scope="read")
    return see_other("/password")
