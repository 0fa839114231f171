"""GET a JSON object from another service (the resource server's JWKS discovery and its
revocation feed): every way it can fail is one exception type of the caller's, naming the
URL, never the response body."""

from collections.abc import Mapping
from typing import Any

import httpx


async def fetch_json_object(
    http: httpx.AsyncClient,
    url: str,
    *,
    error: type[Exception],
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON object at `url`; a transport error, a status other than 200 or a body that is
    no JSON object raises `error`."""
    try:
        response = await http.get(url, headers={"Accept": "application/json", **(headers or {})})
    except httpx.HTTPError as exc:
        raise error(f"{url}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise error(f"{url}: HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise error(f"{url}: not JSON") from None
    if not isinstance(body, dict):
        raise error(f"{url}: not a JSON object")
    return body
