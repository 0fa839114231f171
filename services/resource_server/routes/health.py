"""`GET /healthz`: liveness, without authentication."""

from fastapi import APIRouter
from starlette.responses import Response

router = APIRouter(tags=["health"])

_HEALTHY = b'{"status":"ok"}'


@router.get("/healthz", summary="Liveness")
async def healthz() -> Response:
    return Response(_HEALTHY, media_type="application/json")
