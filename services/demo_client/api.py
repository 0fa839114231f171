"""Calls to protected APIs with `Authorization: Bearer` (RFC 6750 §2.1), and reading their
`WWW-Authenticate` challenges (RFC 6750 §3) so the app knows whether to refresh or re-ask.
"""

import re
from dataclasses import dataclass
from typing import Any

import httpx

# The lookbehind makes a name start only where no name character precedes it: without it, a
# long run of letters is rescanned from every position (quadratic time).
_CHALLENGE_PARAM = re.compile(r'(?<![a-zA-Z_])([a-zA-Z_]+)\s*=\s*"((?:[^"\\]|\\.)*)"')
_MAX_CHALLENGE = 4096


def parse_bearer_challenge(header: str | None) -> dict[str, str]:
    """The auth-params of a `Bearer` challenge: realm, error, error_description, scope."""
    if not header or len(header) > _MAX_CHALLENGE:
        return {}
    if not header.strip().lower().startswith("bearer"):
        return {}
    return {name.lower(): value for name, value in _CHALLENGE_PARAM.findall(header)}


@dataclass
class ApiCall:
    """One API request and answer, for the page and the inspector."""

    method: str
    url: str
    status: int
    body: Any
    challenge: dict[str, str]
    sent_json: dict[str, Any] | None = None
    unreachable: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error(self) -> str | None:
        """The RFC 6750 error code, from the challenge or else the JSON body."""
        if self.ok:
            return None
        if "error" in self.challenge:
            return self.challenge["error"]
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), str):
            return str(self.body["error"])
        return "unreachable" if self.unreachable else f"http_{self.status}"

    @property
    def error_description(self) -> str:
        if "error_description" in self.challenge:
            return self.challenge["error_description"]
        if isinstance(self.body, dict):
            return str(self.body.get("error_description") or self.body.get("detail") or "")
        return self.unreachable or ""

    @property
    def why_refused(self) -> str:
        """For the user: the description, else the error code."""
        return self.error_description or self.error or ""

    @property
    def token_rejected(self) -> bool:
        """401 invalid_token: expired, revoked or otherwise unusable; a refresh may help."""
        return self.status == 401 and self.error == "invalid_token"

    @property
    def scope_too_small(self) -> bool:
        return self.status == 403 and self.error == "insufficient_scope"


class BearerApi:
    """A protected API at `base_url` (public URL shown to the learner, internal URL called)."""

    def __init__(self, http: httpx.Client, *, base_url: str, shown_url: str | None = None) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.shown_url = (shown_url or base_url).rstrip("/")

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> ApiCall:
        url = f"{self.base_url}{path}"
        shown = f"{self.shown_url}{path}"
        if params:
            shown += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            response = self.http.request(method, url, headers=headers, json=json, params=params)
        except httpx.HTTPError as exc:
            reason = f"{url} is unreachable ({type(exc).__name__})"  # the URL that failed
            return ApiCall(method, shown, 0, None, {}, sent_json=json, unreachable=reason)
        try:
            body: Any = response.json() if response.content else None
        except ValueError:
            body = response.text[:2000]
        challenge = parse_bearer_challenge(response.headers.get("www-authenticate"))
        return ApiCall(method, shown, response.status_code, body, challenge, sent_json=json)
