"""Sign in with Droplet Cloud (OpenID Connect): the page, the callback, sign-out and the
return from the provider's end-session endpoint."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.demo_client.deps import BrowserDep, ContextDep, FormBrowser
from services.demo_client.grants import SIGN_IN, sign_in
from services.demo_client.pages import back_on_error, render_flow_page, see_other
from services.demo_client.routes import page, step

router = APIRouter()


@router.get(
    "/signin",
    summary="Sign in with Droplet Cloud: who is signed in, or the button",
    **page("The sign-in page"),
)
def sign_in_page(browser: BrowserDep, request: Request) -> Response:
    """Who is signed in (from the ID Token and UserInfo), or the Sign in button."""
    signed_in = SIGN_IN in browser.grants
    return render_flow_page(request, browser, flow=SIGN_IN, template="sign_in.html", form=signed_in)


@router.get(
    "/signin/start",
    summary="Sign in: start the OpenID Connect code flow",
    **step("To the authorization endpoint, with state, nonce and PKCE", form=False),
)
def start(ctx: ContextDep, browser: BrowserDep) -> Response:
    return see_other(sign_in.start(ctx, browser))


@router.get(
    "/signin/callback",
    summary="The redirect URI of the sign-in flow",
    **step("To the sign-in page, once the ID Token is checked", form=False),
)
def callback(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    params = dict(request.query_params.items())
    with back_on_error("/signin"):
        return see_other(sign_in.receive_code(ctx, browser, params))


@router.post(
    "/signout",
    summary="Sign out here and at Droplet Cloud",
    **step("To the end-session endpoint of Droplet Cloud"),
)
def sign_out(ctx: ContextDep, browser: FormBrowser) -> Response:
    """Forget the sign-in here, then end the session at Droplet Cloud."""
    with back_on_error("/signin"):
        return see_other(sign_in.sign_out(ctx, browser))


@router.get(
    "/signout/done",
    summary="The post-logout redirect URI",
    **step("To the sign-in page", form=False),
)
def signed_out(ctx: ContextDep, browser: BrowserDep, request: Request) -> Response:
    """The post_logout_redirect_uri."""
    with back_on_error("/signin"):
        sign_in.signed_out(ctx, browser, dict(request.query_params.items()))
    return see_other("/signin")
