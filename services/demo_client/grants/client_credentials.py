"""The client credentials grant (RFC 6749 §4.4): Dropletbook gets an app token for its own
account at Droplet Cloud (no user involved) and reads and updates its own registration."""

from services.demo_client.api import ApiCall
from services.demo_client.context import ClientContext
from services.demo_client.errors import back_channel
from services.demo_client.explanations import refusals, steps
from services.demo_client.grants import CLIENT_CREDENTIALS
from services.demo_client.grants.api_calls import call_api
from services.demo_client.grants.browser_state import keep_tokens, recording
from services.demo_client.models import BrowserSession
from services.demo_client.oauth import apps_api_resource

APPS_SELF = "/v1/apps/self"


def request_app_token(ctx: ClientContext, browser: BrowserSession, *, scope: str) -> None:
    """A token for Dropletbook itself, for the server's own app API (RFC 8707 `resource`),
    not the cloud API's default audience."""
    client_id = ctx.settings.service_client_id
    with recording(browser, CLIENT_CREDENTIALS, fresh=True) as rec:
        rec.explain(steps.app_token_intro(client_id))
        with back_channel(rec, refused=refusals.app_token_refused):
            result = ctx.client_credentials_client.client_credentials(
                scope=scope, resource=apps_api_resource(ctx.settings.issuer)
            )
        keep_tokens(browser, rec, CLIENT_CREDENTIALS, result, steps.APP_TOKEN_REQUEST)


def read_registration(ctx: ClientContext, browser: BrowserSession) -> ApiCall:
    return call_api(ctx, browser, "GET", APPS_SELF, key=CLIENT_CREDENTIALS, api=ctx.apps)


def update_registration(
    ctx: ClientContext, browser: BrowserSession, *, description: str, redirect_uris: list[str]
) -> ApiCall:
    body = {"description": description, "redirect_uris": redirect_uris}
    return call_api(
        ctx, browser, "PATCH", APPS_SELF, key=CLIENT_CREDENTIALS, json=body, api=ctx.apps
    )
