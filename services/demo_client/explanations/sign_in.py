"""What the inspector and the pages say about Sign in with Droplet Cloud (OpenID Connect),
and why a sign-in or sign-out was refused (the pages link back to /signin)."""

from services.demo_client.explanations.refusals import Refusal
from services.demo_client.explanations.steps import Note

DISCOVERY = Note(
    "Discover the OpenID provider",
    "Dropletbook reads Droplet Cloud's OpenID Connect Discovery document "
    "(/.well-known/openid-configuration). Its issuer must be exactly the one Dropletbook is "
    "configured with; it names the JWKS (the keys ID Tokens are signed with), the UserInfo "
    "endpoint and the end-session (logout) endpoint.",
    "OpenID Connect Discovery",
)
CODE_EXCHANGE = Note(
    "Exchange the code for tokens (and an ID Token)",
    "As in the code flow, Dropletbook posts the code, its PKCE code_verifier and its client "
    "credentials to the token endpoint over the back channel. Because the scope has openid, "
    "the answer also carries an ID Token: a signed statement of who signed in.",
    "OpenID Connect Core §3.1.3",
)
ID_TOKEN = Note(
    "Decoded ID Token (JWT)",
    "The ID Token is a JWT signed by Droplet Cloud. It tells Dropletbook who you are (sub), "
    "who says so (iss), for which app (aud), until when (exp), and which sign-in it answers "
    "(nonce). Dropletbook trusts none of it before the checks below pass.",
    "OpenID Connect Core §2",
)
ID_TOKEN_VALID = Note(
    "The ID Token passed every check",
    "Checked in order, as OpenID Connect Core §3.1.3.7 lists them; the first failure would "
    "have stopped the sign-in.",
    "OpenID Connect Core §3.1.3.7",
)
ID_TOKEN_INVALID = Note(
    "The ID Token failed a check",
    "Dropletbook stopped at the first check that failed and refused the sign-in.",
    "OpenID Connect Core §3.1.3.7",
)
USERINFO = Note(
    "",
    "UserInfo: Dropletbook presents the access token to Droplet Cloud's UserInfo endpoint "
    "and gets the claims you consented to (profile: name; email: email). Its sub must be the "
    "ID Token's sub.",
    "OpenID Connect Core §5.3",
)
REVOKE_ON_SIGN_OUT = Note(
    "Sign out: revoke the refresh token",
    "Dropletbook has no further use for the tokens of this sign-in: it revokes the refresh "
    "token (RFC 7009), so no forgotten grant stays live at Droplet Cloud.",
    "Sign out",
)
END_SESSION = Note(
    "Sign out at Droplet Cloud",
    "Dropletbook forgets the sign-in and sends the browser to Droplet Cloud's end-session "
    "endpoint with the ID Token as id_token_hint (who is signing out of which app), the "
    "registered post_logout_redirect_uri and a fresh state. Droplet Cloud asks you to "
    "confirm, ends its own session and sends the browser back.",
    "RP-Initiated Logout §2",
)
SIGNED_OUT_REDIRECT = Note(
    "Back from Droplet Cloud",
    "Droplet Cloud sent the browser back to the post_logout_redirect_uri with the state "
    "Dropletbook sent: the sign-out it started is complete.",
    "RP-Initiated Logout §3",
)
NO_END_SESSION = Note(
    "Signed out of Dropletbook only",
    "Droplet Cloud publishes no end_session_endpoint, so Dropletbook forgot the sign-in but "
    "cannot end your session there.",
    "Sign out",
)


def signed_in(name: str) -> str:
    return f"Signed in with Droplet Cloud as {name}."


SIGNED_OUT = "Signed out of Dropletbook and Droplet Cloud."
SIGNED_OUT_HERE = "Signed out of Dropletbook. Droplet Cloud offers no sign-out to send you to."

# -- Refusals --------------------------------------------------------------------------------


def provider_unusable(url: str, reason: str) -> Refusal:
    return Refusal(
        "Droplet Cloud cannot sign you in",
        f"Dropletbook could not use Droplet Cloud as an OpenID provider: {url} failed "
        f"({reason}). Check that Droplet Cloud runs at CLIENT_ISSUER with OpenID Connect.",
        status=502,
        step="Discovery failed",
        detail=f"{url}: {reason}",
    )


NO_ID_TOKEN = Refusal(
    "Refused: no ID Token",
    "Droplet Cloud answered the sign-in without an ID Token, so Dropletbook cannot tell who "
    "signed in. Nothing was stored.",
    status=502,
    step="Refused: no ID Token",
    detail="The token response has no id_token although the scope had openid.",
)


def id_token_refused(check: str, detail: str) -> Refusal:
    return Refusal(
        "Refused: the ID Token is not valid",
        f"Dropletbook refused this sign-in: the ID Token failed the {check} check "
        f"({detail}). Nobody was signed in and nothing was stored. Try signing in again.",
        status=400,
    )


def userinfo_refused(status: int, reason: str) -> Refusal:
    return Refusal(
        "Refused: UserInfo did not answer",
        f"Droplet Cloud's UserInfo endpoint answered {status or 'nothing'} ({reason}). "
        "Nobody was signed in.",
        status=502,
        step="Refused: UserInfo failed",
        detail=reason,
    )


USERINFO_OTHER_USER = Refusal(
    "Refused: UserInfo is about someone else",
    "The UserInfo response names another user (sub) than the ID Token. Dropletbook refused "
    "the sign-in (OpenID Connect Core §5.3.4).",
    status=502,
    step="Refused: sub mismatch",
    detail="UserInfo sub differs from the ID Token sub.",
)


SIGN_OUT_STATE_MISMATCH = Refusal(
    "Refused: this sign-out was not started here",
    "This return from Droplet Cloud's sign-out does not carry the state Dropletbook sent "
    "from this browser. You are signed out of Dropletbook either way.",
    step="Refused: state mismatch",
    detail="The state of the post-logout redirect is not the one Dropletbook stored.",
)
