"""Reading pages and redirects like a browser does: hidden form fields, forms, redirect targets."""

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def _text(page: str | httpx.Response) -> str:
    return page.text if isinstance(page, httpx.Response) else page


def hidden_fields(page: str | httpx.Response) -> dict[str, str]:
    """The hidden inputs of a page (CSRF token, the pending request), unescaped."""
    return {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(_text(page))}


def csrf_token(page: str | httpx.Response) -> str:
    token = hidden_fields(page).get("csrf_token")
    assert token, "no CSRF token on the page"
    return token


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, list[str]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").lower()))
        elif self.forms and tag in ("input", "button") and "name" in values:
            kind = values.get("type", "submit" if tag == "button" else "text").lower()
            if kind == "submit":
                self.forms[-1].buttons.setdefault(values["name"], []).append(values["value"])
            elif kind == "hidden":
                self.forms[-1].fields[values["name"]] = values.get("value", "")


def find_form(page: str | httpx.Response, action: str) -> Form:
    """The one POST form of the page whose action has the path `action`."""
    parser = _FormParser()
    parser.feed(_text(page))
    matches = [form for form in parser.forms if urlsplit(form.action).path == action]
    assert len(matches) == 1, f"expected one form posting to {action}, found {parser.forms}"
    assert matches[0].method == "post"
    return matches[0]


def single_values(encoded: str) -> dict[str, str]:
    """A query string or fragment as a dict; each parameter must appear once."""
    params = parse_qs(encoded, keep_blank_values=True)
    assert all(len(values) == 1 for values in params.values()), params
    return {name: values[0] for name, values in params.items()}


def query_of(url: str) -> dict[str, str]:
    return single_values(urlsplit(url).query)


def fragment_of(url: str) -> dict[str, str]:
    return single_values(urlsplit(url).fragment)


def redirect_params(response: httpx.Response, *, fragment: bool = False) -> dict[str, str]:
    """The parameters a redirect sends to the client, from the query or the fragment."""
    location = response.headers["location"]
    return fragment_of(location) if fragment else query_of(location)


def redirect_target(response: httpx.Response) -> str:
    """The redirect location without its query and fragment."""
    parts = urlsplit(response.headers["location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path
