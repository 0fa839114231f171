"""The flow inspector: each flow as numbered steps matching the tutorial, with secrets masked.

Tokens and codes are shown only by their first characters: enough to follow a value from one
step to the next, never enough to use it. Passwords and client secrets (also inside a Basic
`Authorization` header) are hidden entirely: a person chose the one, and neither is
short-lived. What is recorded is already masked, so the database holds no more than the page.
JWTs are decoded here for display only: the resource server verifies access tokens, and
`id_token` the ID Tokens, whose checks are recorded with them.
"""

import base64
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pydantic import BaseModel, Field

from services.demo_client.api import ApiCall
from services.demo_client.explanations import steps
from services.demo_client.explanations.parameters import CLAIM_MEANINGS, MEANINGS
from services.demo_client.oauth import Exchange
from shared.log_redaction import SENSITIVE_PARAMETERS

SECRET_NAMES = SENSITIVE_PARAMETERS | {"authorization", "id_token_hint"}
HIDDEN_NAMES = frozenset({"password", "client_secret"})
"""Never shown in part: not even a prefix or the length."""
KEEP = 6
HIDDEN = "•••••••• (hidden)"
MAX_STEPS = 60


def mask(value: str, keep: int = KEEP) -> str:
    """A token's first characters and how long it is."""
    if len(value) <= keep:
        return "•" * len(value)
    return f"{value[:keep]}… ({len(value)} chars)"


def hide(value: str) -> str:
    """A password or client secret: nothing of it."""
    return HIDDEN if value else ""


def _mask_authorization(value: str) -> str:
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return f"{scheme} {mask(credentials)}"
    # Basic carries client_id:client_secret; any other scheme is unknown: hide it all.
    return f"{scheme} {HIDDEN}" if credentials else HIDDEN


def mask_value(name: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: mask_value(str(key), item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_value(name, item) for item in value]
    name = name.lower()
    if not isinstance(value, str) or name not in SECRET_NAMES:
        return value
    if name == "authorization":
        return _mask_authorization(value)
    return hide(value) if name in HIDDEN_NAMES else mask(value)


def mask_url(url: str) -> str:
    """The URL with secret query parameters masked, for display."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(f"{name}={mask_value(name, value)}" for name, value in pairs)
    return urlunsplit(parts._replace(query=query))


def decode_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Header and claims of a JWS compact token, unverified: for display only."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = (
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            for part in parts[:2]
        )
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return header, claims


class Param(BaseModel):
    name: str
    value: str
    meaning: str = ""


class Step(BaseModel):
    title: str
    tutorial: str = ""
    """Which step of the tutorial's walk this is."""
    text: str = ""
    method: str = ""
    url: str = ""
    params: list[Param] = Field(default_factory=list)
    headers: list[Param] = Field(default_factory=list)
    status: int | None = None
    body: str = ""
    ok: bool = True
    at: float = Field(default_factory=time.time)


class Flow(BaseModel):
    key: str
    title: str
    steps: list[Step] = Field(default_factory=list)


def _params(values: Mapping[str, Any]) -> list[Param]:
    masked = mask_value("", dict(values))
    return [Param(name=k, value=str(v), meaning=MEANINGS.get(k, "")) for k, v in masked.items()]


def _pretty(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, dict | list):
        return json.dumps(mask_value("", body), indent=2)
    return str(body)[:2000]


class Recorder:
    """Appends steps to one flow; the caller saves the flow with the browser session."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def add(self, step: Step) -> Step:
        self.flow.steps.append(step)
        del self.flow.steps[:-MAX_STEPS]
        return step

    def note(self, title: str, text: str, *, tutorial: str = "", ok: bool = True) -> Step:
        return self.add(Step(title=title, text=text, tutorial=tutorial, ok=ok))

    def explain(self, note: steps.Note, *, ok: bool = True) -> Step:
        """A step that is only a note (no request): see `explanations.steps`."""
        return self.note(note.title, note.text, tutorial=note.tutorial, ok=ok)

    def redirect(
        self, title: str, url: str, params: Mapping[str, str], *, text: str, tutorial: str
    ) -> Step:
        """A front-channel redirect: the browser carries these parameters."""
        return self.add(
            Step(
                title=title,
                tutorial=tutorial,
                text=text,
                method="GET",
                url=mask_url(url),
                params=_params(params),
                ok="error" not in params,
            )
        )

    def exchange(self, title: str, exchange: Exchange, *, text: str, tutorial: str = "") -> Step:
        """A back-channel request to the authorization server, and its answer."""
        headers = {"Content-Type": "application/x-www-form-urlencoded", **exchange.request_headers}
        return self.add(
            Step(
                title=title,
                tutorial=tutorial,
                text=f"{text} Client authentication: {exchange.client_auth}.",
                method=exchange.method,
                url=exchange.url,
                params=_params(exchange.form),
                headers=_params(headers),
                status=exchange.status,
                body=_pretty(exchange.body),
                ok=exchange.ok,
            )
        )

    def jwt(self, token: str, *, tutorial: str = "", note: steps.Note = steps.JWT) -> Step:
        """A token's header and claims, decoded (not verified here) for the learner."""
        decoded = decode_jwt(token)
        if decoded is None:
            return self.explain(steps.OPAQUE_TOKEN)
        header, claims = decoded
        rows = [
            Param(name=f"header.{k}", value=str(v), meaning=CLAIM_MEANINGS.get(k, ""))
            for k, v in header.items()
        ] + [
            Param(name=k, value=str(v), meaning=CLAIM_MEANINGS.get(k, ""))
            for k, v in claims.items()
        ]
        return self.add(
            Step(title=note.title, tutorial=tutorial or note.tutorial, text=note.text, params=rows)
        )

    def checks(self, note: steps.Note, checks: Iterable[tuple[str, bool, str]]) -> Step:
        """Named checks (name, passed, what was verified or why it failed), in order."""
        rows = [
            Param(name=name, value="passed" if passed else "FAILED", meaning=detail)
            for name, passed, detail in checks
        ]
        ok = all(row.value == "passed" for row in rows)
        return self.add(
            Step(title=note.title, tutorial=note.tutorial, text=note.text, params=rows, ok=ok)
        )

    def api(self, call: ApiCall, *, token: str, text: str = "", tutorial: str = "") -> Step:
        headers = {"Authorization": f"Bearer {token}"}
        if call.sent_json is not None:
            headers["Content-Type"] = "application/json"
        body = call.body if call.body is not None else call.unreachable
        challenge = ", ".join(f'{k}="{v}"' for k, v in call.challenge.items())
        explanation = text
        if challenge:
            explanation += f" WWW-Authenticate: Bearer {challenge}"
        return self.add(
            Step(
                title=f"API call: {call.method} {urlsplit(call.url).path}",
                tutorial=tutorial,
                text=explanation.strip(),
                method=call.method,
                url=call.url,
                params=_params(call.sent_json or {}),
                headers=_params(headers),
                status=call.status or None,
                body=_pretty(body),
                ok=call.ok,
            )
        )
