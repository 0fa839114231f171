"""`/v2/droplets`: list, read, create and delete the droplets of the token's account."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from services.resource_server import droplets
from services.resource_server.deps import SessionDep, SettingsDep
from services.resource_server.json_body import json_body, openapi_body
from services.resource_server.protect import ReadClaims, WriteClaims, require_scope
from services.resource_server.routes import BEARER_ERRORS, NOT_FOUND, WRITE_ERRORS
from services.resource_server.schemas import (
    DropletCreate,
    DropletList,
    DropletResponse,
    Links,
    Meta,
    PageLinks,
)

router = APIRouter(tags=["droplets"])

DropletId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Droplet id")]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
PerPage = Annotated[int, Query(ge=1, le=200)]


@router.get(
    "/v2/droplets",
    summary="List droplets (scope read)",
    response_model=DropletList,
    responses=BEARER_ERRORS,
)
def list_droplets(
    claims: ReadClaims,
    session: SessionDep,
    request: Request,
    page: Page = 1,
    per_page: PerPage = 20,
) -> DropletList:
    rows, total = droplets.list_page(session=session, claims=claims, page=page, per_page=per_page)
    return DropletList(
        droplets=[droplets.droplet_public(row) for row in rows],
        links=Links(pages=_page_links(request, page=page, per_page=per_page, total=total)),
        meta=Meta(total=total),
    )


@router.get(
    "/v2/droplets/{droplet_id}",
    summary="Read a droplet (scope read)",
    response_model=DropletResponse,
    responses={**BEARER_ERRORS, **NOT_FOUND},
)
def get_droplet(claims: ReadClaims, session: SessionDep, droplet_id: DropletId) -> DropletResponse:
    droplet = droplets.get_droplet(session=session, claims=claims, droplet_id=droplet_id)
    return DropletResponse(droplet=droplets.droplet_public(droplet))


@router.post(
    "/v2/droplets",
    summary="Create a droplet (scope write)",
    status_code=201,
    response_model=DropletResponse,
    responses={**BEARER_ERRORS, **WRITE_ERRORS},
    openapi_extra=openapi_body(DropletCreate),
)
def create_droplet(
    claims: WriteClaims,
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[DropletCreate, json_body(DropletCreate, require_scope("write"))],
) -> DropletResponse:
    """The body is read only once the token is accepted (see `json_body`)."""
    droplet = droplets.create_droplet(
        session=session, claims=claims, data=body, droplet_limit=settings.default_droplet_limit
    )
    return DropletResponse(droplet=droplets.droplet_public(droplet))


@router.delete(
    "/v2/droplets/{droplet_id}",
    summary="Delete a droplet (scope write)",
    status_code=204,
    responses={**BEARER_ERRORS, **NOT_FOUND},
)
def delete_droplet(claims: WriteClaims, session: SessionDep, droplet_id: DropletId) -> Response:
    droplets.delete_droplet(session=session, claims=claims, droplet_id=droplet_id)
    return Response(status_code=204)


def _page_links(request: Request, *, page: int, per_page: int, total: int) -> PageLinks:
    last = max(1, -(-total // per_page))

    def url(number: int) -> str:
        return str(request.url.include_query_params(page=number, per_page=per_page))

    return PageLinks(
        first=url(1) if page > 1 else None,
        prev=url(min(page - 1, last)) if page > 1 else None,
        next=url(page + 1) if page < last else None,
        last=url(last) if page < last else None,
    )
