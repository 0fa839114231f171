"""Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies").

A browser that signed in to an account holds a cookie naming a random device id, signed for
that account's email with the server secret. At the login form such a browser is counted
under its own small budget (`throttle.login_subjects`), so strangers guessing an account's
password lock out only browsers the account has never used, never its owner's.
"""

import re
import time

from starlette.requests import Request
from starlette.responses import Response

from services.authorization_server.settings import Settings
from shared.cookies import host_cookie
from shared.crypto import new_token, sign_value, signature_matches

DEVICE_COOKIE = "as_device"  # `__Host-as_device` outside development (shared.cookies)
_MAX_COOKIE = 200  # ours are about 90 characters: a device id, an expiry, a signature
_EXPIRES = re.compile(r"[0-9]{1,12}")


def _secret(settings: Settings) -> bytes:
    return ("device:" + settings.secret_key.get_secret_value()).encode("utf-8")


def known_device(request: Request, settings: Settings, email: str) -> str | None:
    """The device id of this browser if it signed in to `email` before (and not too long
    ago); None for any other browser, a forged cookie, or one issued for another account."""
    value = host_cookie(DEVICE_COOKIE, settings).read(request) or ""
    if len(value) > _MAX_COOKIE:
        return None
    device, _, rest = value.partition(".")
    expires, _, signature = rest.partition(".")
    # ASCII digits only, and few: int() refuses other digits and over 4300 of them.
    if not (device and _EXPIRES.fullmatch(expires) and signature) or int(expires) < time.time():
        return None
    signed = f"{email}\x00{device}\x00{expires}"
    return device if signature_matches(_secret(settings), signed, signature) else None


def remember_device(response: Response, settings: Settings, email: str) -> None:
    """After a correct password: this browser is known to `email` (a new device id, so a
    fresh budget)."""
    device = new_token(16)
    ttl = settings.throttle_device_cookie_ttl
    expires = str(int(time.time()) + ttl)
    signature = sign_value(_secret(settings), f"{email}\x00{device}\x00{expires}")
    host_cookie(DEVICE_COOKIE, settings).set(
        response, f"{device}.{expires}.{signature}", max_age=ttl
    )
