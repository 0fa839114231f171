"""What the inspector says about each step of each flow, and the notices pages show after it."""

from dataclasses import dataclass

from services.demo_client.grants import CLIENT_CREDENTIALS, CODE, IMPLICIT, PASSWORD, SIGN_IN

FLOW_TITLES = {
    CODE: "Authorization code with PKCE",
    IMPLICIT: "Implicit grant (deprecated)",
    PASSWORD: "Resource owner password credentials",
    CLIENT_CREDENTIALS: "Client credentials",
    SIGN_IN: "Sign in with Droplet Cloud (OpenID Connect)",
}


@dataclass(frozen=True)
class Note:
    """A recorded step: its title, what it means and the tutorial step it matches."""

    title: str
    text: str = ""
    tutorial: str = ""


# -- The front channel: authorization request and response ----------------------------------


def flow_title(flow: str, scope: str) -> str:
    usual = scope == "read" or flow == SIGN_IN
    return FLOW_TITLES[flow] + ("" if usual else f" — asking for {scope}")


def registered(client_id: str, redirect_uri: str, *, public: bool) -> Note:
    kind = (
        "It is a public client: it has no secret, since a browser app cannot keep one."
        if public
        else "It is a confidential client: its client secret stays on Dropletbook's "
        "server and is never shown, not even in part."
    )
    return Note(
        "The app is registered",
        f"Dropletbook is registered at Droplet Cloud as client_id {client_id} with the "
        f"redirect URI {redirect_uri}. {kind}",
        "Step 1",
    )


WRITE_REASON = (
    "Creating or deleting a droplet needs the write scope. You gave Dropletbook read access "
    "only, so it asks Droplet Cloud again, this time for read and write (incremental "
    "authorization). Droplet Cloud shows the consent screen with Read and Write."
)


ASKING_FOR_WRITE = Note("Why Dropletbook asks again", WRITE_REASON, "Incremental authorization")


def keeping_granted(held: str, scope: str) -> Note:
    return Note(
        "Dropletbook keeps what you granted",
        f"Dropletbook already holds {held}. The grant this request leads to replaces the one "
        f"it holds, so it asks for {scope}: what it holds plus what it wants. Asking for less "
        "would lose access you gave (Droplet Cloud does not support include_granted_scopes). "
        "You approved this before, so Droplet Cloud may not show the consent screen again.",
        "Incremental authorization",
    )


def metadata_unreachable(url: str, reason: str) -> Note:
    return Note("Authorization server unreachable", f"GET {url} failed: {reason}")


def authorization_request(masked_verifier: str | None) -> Note:
    text = (
        "Dropletbook sends your browser to Droplet Cloud's authorization endpoint. "
        "Droplet Cloud asks you to log in (if needed), then shows the consent screen: "
        "Authorize Application or Deny."
    )
    if masked_verifier:
        text += (
            " The PKCE code verifier behind code_challenge stays on Dropletbook's server "
            f"({masked_verifier})."
        )
    return Note("Authorization request", text, "Steps 2-3")


# -- Authorization code ----------------------------------------------------------------------

CODE_REDIRECT = Note(
    "Redirect back to Dropletbook",
    "Droplet Cloud sends the browser back to the registered redirect URI. Dropletbook "
    "first checks that state is the value it stored for this browser session.",
    "Step 4",
)
CODE_EXCHANGE = Note(
    "Exchange the code for tokens",
    "Over the back channel (server to server, never through the browser), "
    "Dropletbook posts the code, its PKCE code_verifier and its client credentials to "
    "the token endpoint. The answer carries the access token and a refresh token.",
    "Step 5",
)
CONNECTED = "Connected: Dropletbook can now read your Droplet Cloud account."
WRITE_GRANTED = "Dropletbook now has read and write access: you can create droplets."


REPLACED_GRANT_REVOKED = Note(
    "Revoke the grant this one replaces",
    "Dropletbook keeps one grant per browser: it revokes the refresh token of the grant it "
    "held before (RFC 7009), which ends that grant at Droplet Cloud. Your consent stays, "
    "since the new grant uses it.",
    "Incremental authorization",
)


def replaced_grant_kept(url: str, reason: str) -> Note:
    return Note(
        "The grant this one replaces was not revoked",
        f"POST {url} failed ({reason}). Dropletbook forgot the old refresh token anyway; it "
        "expires on its own, or you can revoke Dropletbook at Droplet Cloud.",
        "Incremental authorization",
    )


def revocation(hint: str) -> Note:
    return Note(
        f"Disconnect: revoke the {hint.replace('_', ' ')}",
        "RFC 7009 revocation. Revoking the refresh token ends the whole grant, and with "
        "it Droplet Cloud withdraws your consent (unless Dropletbook still holds another "
        "grant from you, say on another device): Dropletbook leaves your authorized apps, "
        "and the next Connect shows the consent screen again. The resource server learns "
        "of revoked access tokens within seconds.",
        "Disconnect",
    )


DISCONNECTED = "Disconnected: Dropletbook revoked its tokens and forgot them."

# -- Implicit --------------------------------------------------------------------------------

FRAGMENT_REDIRECT = Note(
    "Token in the URL fragment",
    "Droplet Cloud redirected the browser with the access token in the URL fragment "
    "(after #), which browsers never send to servers. A script on the callback page read "
    "it and passed it to Dropletbook. There is no refresh token and no code exchange.",
    "Steps 4-5",
)
FRAGMENT_TOKEN_WORKS = Note("", "The token from the fragment works on the API.", "Step 6")
IMPLICIT_DONE = "The implicit flow gave Dropletbook a read-only access token."

# -- Password and client credentials ---------------------------------------------------------


def password_intro(trusted_client_id: str) -> Note:
    return Note(
        "The user types the password into the app",
        "With this grant the app itself collects the user's Droplet Cloud password, so only a "
        "trusted, first-party app may use it (Dropletbook's trusted client, "
        f"{trusted_client_id}). Prefer the authorization code flow.",
        "Password grant",
    )


PASSWORD_REQUEST = Note(
    "Token request with the user's password",
    "Dropletbook posts the user's email and password with its own client "
    "credentials to the token endpoint.",
)


def app_token_intro(client_id: str) -> Note:
    return Note(
        "The app acts on its own account",
        "No user is involved: Dropletbook authenticates as itself "
        f"({client_id}) and gets a token whose subject is the app.",
        "Client credentials",
    )


APP_TOKEN_REQUEST = Note(
    "Token request with the app's own credentials",
    "grant_type=client_credentials: the token endpoint only needs the client's "
    "id and secret. No refresh token is issued; the app simply asks again. "
    "resource (RFC 8707) names the API the token is for, here Droplet Cloud's own "
    "app API: its aud admits it there and nowhere else.",
)


def registration_updated(ok: bool, refusal: str) -> str:
    if ok:
        return "Registration updated through PATCH /v1/apps/self."
    return f"Droplet Cloud refused the update: {refusal}"


# -- Using the tokens ------------------------------------------------------------------------


def token_refused(description: str) -> Note:
    return Note(
        "The access token was refused",
        f"The API answered 401 invalid_token ({description or 'no detail'}). "
        "Access tokens are short-lived; Dropletbook uses its refresh token to get a new "
        "one, then retries the call once.",
        "Step 7",
    )


REFRESH = Note(
    "Refresh the access token (rotation)",
    "Dropletbook posts its refresh token to the token endpoint. Droplet Cloud rotates "
    "it: the answer has a new access token and a new refresh token, and the old refresh "
    "token stops working (reusing it would revoke the whole grant).",
    "Step 7",
)
RETRIED = Note("", "Retried once with the new access token.", "Step 7")
REFRESH_ON_REQUEST = Note(
    "Refresh now (you asked)",
    "Dropletbook normally refreshes only when the API refuses an expired access token. "
    "Here it runs the same refresh grant at once, so that you can see the rotation.",
    "Step 7",
)


def rotated(old_refresh: str, new_refresh: str) -> Note:
    return Note(
        "The refresh token rotated",
        f"Dropletbook sent {old_refresh} and now holds {new_refresh}. The old one is spent: "
        "sent again after the grace window, Droplet Cloud would take it for a stolen token "
        "and revoke the whole grant.",
        "Step 7",
    )


JWT = Note(
    "Decoded access token (JWT)",
    "The access token is a signed JWT (RFC 9068). Anyone holding it can read "
    "these claims; only the authorization server's key can produce the signature, "
    "which the resource server checks with the published JWKS.",
)
OPAQUE_TOKEN = Note("Access token", "The access token is opaque (not a JWT).")


def droplet_created(name: str, ok: bool, refusal: str) -> str:
    return f"Droplet {name} created." if ok else f"Droplet Cloud refused the droplet: {refusal}"


def droplet_deleted(ok: bool, refusal: str) -> str:
    return "Droplet deleted." if ok else f"Droplet Cloud refused: {refusal}"


REFRESHED = (
    "Refreshed: a new access token, and the refresh token rotated (the flow inspector shows both)."
)
