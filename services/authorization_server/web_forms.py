"""HTML form bodies of the portal pages: multi-valued (checkbox groups), CSRF-checked.

The back-channel endpoints refuse repeated parameters (`shared.http.parse_form`); a
browser form with a group of checkboxes repeats its name by design, so pages read here.
"""

from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request

from services.authorization_server.settings import Settings
from services.authorization_server.web_session import check_csrf
from shared.errors import InvalidRequestError, PayloadTooLargeError
from shared.http import is_form_content_type


@dataclass(frozen=True)
class PageForm:
    pairs: list[tuple[str, str]]

    def get(self, name: str, default: str = "") -> str:
        return next((value for key, value in self.pairs if key == name), default)

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


async def read_page_form(request: Request, settings: Settings) -> PageForm:
    """The urlencoded body of a page POST, after its CSRF token is checked.

    A body without a content type (an empty POST) is read as an empty form: it then fails
    the CSRF check like any other form without a token.
    """
    content_type = request.headers.get("content-type")
    if content_type is not None and not is_form_content_type(content_type):
        raise InvalidRequestError("content type must be application/x-www-form-urlencoded")
    max_bytes = settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise PayloadTooLargeError(f"request body larger than {max_bytes} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise PayloadTooLargeError(f"request body larger than {max_bytes} bytes")
    try:
        pairs = parse_qsl(bytes(body).decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError("request body is not valid UTF-8 form data") from None
    form = PageForm(pairs)
    csrf = form.getlist("csrf_token")
    check_csrf(request, settings, csrf[0] if len(csrf) == 1 else None)
    return form
