"""`GET /healthz`: liveness, without authentication.

The authorization server and Dropletbook put this one first in their route table
(`FastAPI(routes=health.router.routes)`): it is the cheapest route there is, the honest
baseline of the benchmarks in `bench/`. The resource server has its own, which also says how
old its revocation list is (services/resource_server/routes/health.py).
"""

from fastapi import APIRouter
from starlette.responses import Response

router = APIRouter(tags=["health"])

_HEALTHY = b'{"status":"ok"}'


@router.get("/healthz", summary="Liveness")
async def healthz() -> Response:
    return Response(_HEALTHY, media_type="application/json")
