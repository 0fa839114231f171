"""Storage functions: keyword-only, returning the row or None."""

from collections.abc import Sequence

from sqlmodel import Session, col, func, select

from services.resource_server.models import Account, Droplet


def get_account(*, session: Session, sub: str) -> Account | None:
    return session.get(Account, sub)


def count_droplets(*, session: Session, owner_sub: str) -> int:
    statement = select(func.count()).select_from(Droplet).where(Droplet.owner_sub == owner_sub)
    return int(session.exec(statement).one())


def list_droplets(
    *, session: Session, owner_sub: str, offset: int, limit: int
) -> Sequence[Droplet]:
    statement = (
        select(Droplet)
        .where(Droplet.owner_sub == owner_sub)
        .order_by(col(Droplet.id))
        .offset(offset)
        .limit(limit)
    )
    return session.exec(statement).all()


def get_droplet(*, session: Session, owner_sub: str, droplet_id: int) -> Droplet | None:
    """The droplet only if `owner_sub` owns it: another account's id looks like no droplet."""
    statement = select(Droplet).where(Droplet.id == droplet_id, Droplet.owner_sub == owner_sub)
    return session.exec(statement).first()
