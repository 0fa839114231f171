"""Browser cookies with one policy: HttpOnly, SameSite=Lax, and `Secure` plus a `__Host-` name
whenever the settings ask for secure cookies (always outside development, see `shared.settings`).

The `__Host-` prefix (RFC 6265bis §4.1.3.2) makes browsers refuse the cookie unless it is
Secure, for path `/` and without `Domain`: a sibling subdomain or a plain-HTTP page cannot
plant or overwrite it.
"""

from dataclasses import dataclass
from typing import Protocol

from starlette.requests import HTTPConnection
from starlette.responses import Response

HOST_PREFIX = "__Host-"


class CookieSettings(Protocol):
    @property
    def secure_cookies(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class HostCookie:
    """A cookie for the whole site (path `/`), named `__Host-<base>` when Secure."""

    base_name: str
    secure: bool

    @property
    def name(self) -> str:
        return HOST_PREFIX + self.base_name if self.secure else self.base_name

    def read(self, request: HTTPConnection) -> str | None:
        return request.cookies.get(self.name)

    def set(self, response: Response, value: str, *, max_age: int) -> None:
        response.set_cookie(
            self.name,
            value,
            max_age=max_age,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )

    def delete(self, response: Response) -> None:
        response.delete_cookie(
            self.name, path="/", secure=self.secure, httponly=True, samesite="lax"
        )


def host_cookie(base_name: str, settings: CookieSettings) -> HostCookie:
    return HostCookie(base_name, settings.secure_cookies)
