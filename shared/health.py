"""`GET /healthz`: liveness, without authentication, the same in every service.

Each service puts it first in its route table (`FastAPI(routes=health.router.routes)`): it
is the cheapest route there is, the honest baseline of the benchmarks in `bench/`.
"""

from fastapi import APIRouter
from starlette.responses import Response

router = APIRouter(tags=["health"])

_HEALTHY = b'{"status":"ok"}'


@router.get("/healthz", summary="Liveness")
async def healthz() -> Response:
    return Response(_HEALTHY, media_type="application/json")
