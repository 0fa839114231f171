"""Why a step was refused: the inspector's note and what the error page tells the user."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """The inspector's note (`step`, `detail`; none when `step` is empty) and the error page
    (`title`, `message`, `status`, a link `back`)."""

    title: str
    message: str
    status: int = 400
    back: str = "/"
    step: str = ""
    detail: str = ""


# -- The authorization response (RFC 6749 §4.1.2, §4.2.2; RFC 9207) -------------------------

STATE_MISMATCH = Refusal(
    "Refused: the state did not match",
    "This response does not belong to an authorization that this browser started "
    "(the state parameter did not match). Dropletbook refused it as a possible "
    "cross-site request forgery (CSRF). Nothing was stored. Start again from "
    "Dropletbook if you meant to connect.",
    step="Refused: state mismatch",
    detail="The state in this response is not the one Dropletbook sent. It may be a forged "
    "request (CSRF), so nothing is exchanged or stored.",
)
NO_ISSUER = Refusal(
    "Refused: the response did not name its server",
    "This authorization response has no iss parameter, although Droplet Cloud always "
    "sends one. It was refused (a possible mix-up attack). Nothing was stored.",
    step="Refused: no issuer",
    detail="Droplet Cloud says (authorization_response_iss_parameter_supported) that it names "
    "itself in every authorization response (RFC 9207), but this one has no iss.",
)


def wrong_issuer(issuer: str, expected: str) -> Refusal:
    return Refusal(
        "Refused: unexpected authorization server",
        "The response names a different authorization server (iss) than the one "
        "Dropletbook asked. It was refused (a possible mix-up attack).",
        step="Refused: wrong issuer",
        detail=f"iss={issuer} is not {expected}",
    )


DENIED = Refusal(
    "You chose Deny",
    "You chose Deny on Droplet Cloud's consent screen, so Dropletbook received no "
    "access this time. Nothing was shared. You can connect again whenever you like.",
    status=403,
    step="You chose Deny",
    detail="Droplet Cloud sent the user back with error=access_denied: no code, no token.",
)


def authorization_failed(error: str, description: str) -> Refusal:
    return Refusal(
        "Droplet Cloud did not authorize the app",
        f"The authorization server answered {error}" + (f": {description}" if description else "."),
        step="Authorization failed",
        detail=f"error={error} {description}",
    )


NO_CODE = Refusal("No authorization code", "The response carried neither code nor error.")
NO_TOKEN = Refusal("No access token", "The fragment carried no bearer access token.")

# -- The token endpoint (RFC 6749 §5.2): `step` titles the refused exchange ----------------


def code_refused(error: str, description: str) -> Refusal:
    return Refusal(
        "The code exchange failed",
        f"Droplet Cloud refused the authorization code: {error}"
        + (f" ({description})." if description else "."),
        step="Token request refused",
    )


def password_refused(error: str, description: str) -> Refusal:
    message = (
        "Wrong email or password."
        if error == "invalid_grant"
        else f"Droplet Cloud answered {error}: {description}"
    )
    return Refusal(
        "Password grant refused", message, back="/password", step="Token request refused"
    )


def app_token_refused(error: str, description: str) -> Refusal:
    return Refusal(
        "Client credentials refused",
        f"Droplet Cloud answered {error}: {description}",
        back="/client-credentials",
        step="Token request refused",
    )


def refresh_refused(error: str, description: str) -> Refusal:
    return Refusal(
        "Your authorization has ended",
        f"Droplet Cloud refused Dropletbook's refresh token ({error}): the access was "
        "revoked or has expired. Connect again to continue.",
        status=401,
        step="Refresh refused",
    )


# -- Anywhere --------------------------------------------------------------------------------


def unreachable(url: str, reason: str) -> Refusal:
    return Refusal(
        "Droplet Cloud is unreachable",
        f"Dropletbook could not reach the authorization server: {url} failed ({reason}). "
        "Check that Droplet Cloud is running at that address (Dropletbook's setting "
        "CLIENT_AS_INTERNAL_URL, or CLIENT_ISSUER when that is empty), then try again.",
        status=502,
    )


NOT_CONNECTED = Refusal(
    "Not connected",
    "Dropletbook holds no token for this. Connect with Droplet Cloud first.",
    status=401,
)
BAD_FORM = Refusal(
    "This form has expired",
    "The form was not sent from this Dropletbook session (its CSRF token did not match). "
    "Reload the page and try again.",
    status=403,
)
