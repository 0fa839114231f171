"""Droplets of one account: every function is scoped to the token's `sub`."""

from sqlmodel import Session

from services.resource_server import repository
from services.resource_server.accounts import get_or_create_account
from services.resource_server.errors import AccountLockedError, DropletLimitError, NotFoundError
from services.resource_server.models import Droplet
from services.resource_server.schemas import DropletCreate, DropletPublic
from services.resource_server.verifier import AccessTokenClaims


def droplet_public(droplet: Droplet) -> DropletPublic:
    return DropletPublic.model_validate(droplet, from_attributes=True)


def create_droplet(
    *, session: Session, claims: AccessTokenClaims, data: DropletCreate, droplet_limit: int
) -> Droplet:
    account = get_or_create_account(session=session, claims=claims, droplet_limit=droplet_limit)
    if account.status != "active":
        raise AccountLockedError("the account is not active")
    if repository.count_droplets(session=session, owner_sub=account.sub) >= account.droplet_limit:
        raise DropletLimitError(f"the account's droplet limit is {account.droplet_limit}")
    droplet = Droplet(
        owner_sub=account.sub, name=data.name, region=data.region, size=data.size, image=data.image
    )
    session.add(droplet)
    session.commit()
    session.refresh(droplet)
    return droplet


def get_droplet(*, session: Session, claims: AccessTokenClaims, droplet_id: int) -> Droplet:
    droplet = repository.get_droplet(session=session, owner_sub=claims.sub, droplet_id=droplet_id)
    if droplet is None:
        raise NotFoundError("no such droplet")
    return droplet


def delete_droplet(*, session: Session, claims: AccessTokenClaims, droplet_id: int) -> None:
    droplet = get_droplet(session=session, claims=claims, droplet_id=droplet_id)
    session.delete(droplet)
    session.commit()


def list_page(
    *, session: Session, claims: AccessTokenClaims, page: int, per_page: int
) -> tuple[list[Droplet], int]:
    """One page of the account's droplets, oldest first, and the total count."""
    total = repository.count_droplets(session=session, owner_sub=claims.sub)
    rows = repository.list_droplets(
        session=session, owner_sub=claims.sub, offset=(page - 1) * per_page, limit=per_page
    )
    return list(rows), total
