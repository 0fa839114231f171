"""The resource owner password credentials grant (RFC 6749 §4.3), only for Dropletbook's
trusted first-party client."""

from services.demo_client.context import ClientContext
from services.demo_client.errors import back_channel
from services.demo_client.explanations import refusals, steps
from services.demo_client.grants import PASSWORD
from services.demo_client.grants.browser_state import keep_tokens, recording
from services.demo_client.models import BrowserSession


def request_token(
    ctx: ClientContext, browser: BrowserSession, *, username: str, password: str, scope: str
) -> None:
    with recording(browser, PASSWORD, fresh=True) as rec:
        rec.explain(steps.password_intro(ctx.settings.trusted_client_id))
        with back_channel(rec, refused=refusals.password_refused):
            result = ctx.trusted_client.password(username=username, password=password, scope=scope)
        keep_tokens(browser, rec, PASSWORD, result, steps.PASSWORD_REQUEST)
