"""One cookie-keeping test "browser" for every service, over the network or in-process.

`Browser(base_url)` talks to a real server; `Browser(base_url, transport=app.transport())`
talks to an `InProcessApp` (see `servers.py`). It keeps cookies and never follows
redirects, so tests see every 303 and can check where it points.
"""

import base64
import hashlib
import secrets
from typing import Any

import httpx

from tests.factories import PASSWORD
from tests.harness.forms import hidden_fields, query_of

AUTHORIZE = "/v1/oauth/authorize"
DECISION = "/v1/oauth/authorize/decision"  # where the consent form posts


class Browser:
    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.http = httpx.Client(
            base_url=base_url, transport=transport, follow_redirects=False, timeout=10
        )

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    @property
    def cookies(self) -> httpx.Cookies:
        return self.http.cookies

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(url, **kwargs)

    def post(self, url: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.post(url, data=data, **kwargs)

    def submit(
        self, page_url: str, action: str, fields: dict[str, Any] | None = None
    ) -> httpx.Response:
        """Load a form page, then post its hidden fields (CSRF token) and `fields` to `action`."""
        page = self.get(page_url)
        assert page.status_code == 200, page.text
        return self.post(action, hidden_fields(page) | (fields or {}))

    def login(
        self, email: str, password: str = PASSWORD, *, next_url: str | None = None
    ) -> httpx.Response:
        """Fill in the login page; the answer is the test's to check."""
        page = self.get("/login", params={"next": next_url} if next_url else None)
        return self.login_on(page, email, password)

    def login_on(
        self, page: httpx.Response, email: str, password: str = PASSWORD
    ) -> httpx.Response:
        """Fill in and send the login form of `page` (a login page the server sent us to)."""
        assert page.status_code == 200, page.text
        return self.post("/login", hidden_fields(page) | {"email": email, "password": password})

    def sign_in(self, email: str, password: str = PASSWORD) -> "Browser":
        """Log in as a step towards something else: it must succeed."""
        response = self.login(email, password)
        assert response.status_code == 303, response.text
        return self

    def authorize(self, params: dict[str, str] | list[tuple[str, str]]) -> httpx.Response:
        return self.get(AUTHORIZE, params=params)

    def decide(self, consent_page: httpx.Response, decision: str) -> httpx.Response:
        """Answer a consent page with `approve` or `deny`."""
        assert consent_page.status_code == 200, consent_page.text
        return self.post(DECISION, hidden_fields(consent_page) | {"decision": decision})

    def approve_code(self, client_id: str, redirect_uri: str, scope: str) -> tuple[str, str]:
        """Approve a PKCE code request on the consent page; returns the code and verifier."""
        params, verifier = code_request(client_id, redirect_uri, scope)
        answer = self.decide(self.authorize(params), "approve")
        assert answer.status_code == 303, answer.text
        return query_of(answer.headers["location"])["code"], verifier


def code_request(client_id: str, redirect_uri: str, scope: str) -> tuple[dict[str, str], str]:
    """The parameters of a PKCE (S256) code request with `state=xyz`, and its verifier."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": "xyz",
        "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    return params, verifier
