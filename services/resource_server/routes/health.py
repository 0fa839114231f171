"""`GET /healthz`: liveness, plus how old the revocation list is.

Always 200 (a stale list is not a dead process); `revocation_list_age` is the seconds since
the last successful poll of the revoked-token feed, `null` when no feed is configured.
"""

import json

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.resource_server.context import ResourceContext

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and revocation-list age")
async def healthz(request: Request) -> Response:
    context: ResourceContext = request.app.state.context
    age = round(context.revoked.age(), 1) if context.feed is not None else None
    body = json.dumps({"status": "ok", "revocation_list_age": age}, separators=(",", ":"))
    return Response(body, media_type="application/json")
