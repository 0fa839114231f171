"""A cookie-keeping HTTP client that walks the login and consent pages like a browser."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import httpx

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


def csrf_token(page: str) -> str:
    return hidden_fields(page)["csrf_token"]


def redirect_params(response: httpx.Response, *, fragment: bool = False) -> dict[str, str]:
    """The parameters a redirect sends to the client, from the query or the fragment."""
    parts = urlsplit(response.headers["location"])
    values = parse_qs(parts.fragment if fragment else parts.query, keep_blank_values=True)
    assert all(len(v) == 1 for v in values.values()), values
    return {name: value[0] for name, value in values.items()}


def redirect_target(response: httpx.Response) -> str:
    """The redirect location without its query and fragment."""
    parts = urlsplit(response.headers["location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path


class Browser:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=10)

    def close(self) -> None:
        self.http.close()

    def login(self, email: str, password: str, *, next_url: str | None = None) -> httpx.Response:
        page = self.http.get("/login", params={"next": next_url} if next_url else None)
        assert page.status_code == 200, page.text
        form = hidden_fields(page.text) | {"email": email, "password": password}
        return self.http.post("/login", data=form)

    def authorize(self, params: dict[str, str] | list[tuple[str, str]]) -> httpx.Response:
        return self.http.get("/v1/oauth/authorize", params=params)

    def decide(self, consent_page: httpx.Response, decision: str) -> httpx.Response:
        assert consent_page.status_code == 200, consent_page.text
        form = hidden_fields(consent_page.text) | {"decision": decision}
        return self.http.post("/v1/oauth/authorize/decision", data=form)
