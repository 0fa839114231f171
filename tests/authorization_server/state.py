"""Reading the authorization server's database in tests: snapshots and token state."""

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from services.authorization_server.models import RevokedAccessToken

# Tables a protocol request may write to; a refused request must leave them as they were.
PROTOCOL_TABLES = (
    "authorizationcode",
    "tokenfamily",
    "refreshtoken",
    "issuedaccesstoken",
    "revokedaccesstoken",
    "revokedclient",
    "consent",
    "client",
    "user",
)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the protocol tables, in a stable order."""
    with engine.connect() as connection:
        return {
            name: sorted(
                (tuple(row) for row in connection.execute(SQLModel.metadata.tables[name].select())),
                key=repr,
            )
            for name in PROTOCOL_TABLES
        }


def revoked_jtis(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(select(RevokedAccessToken.jti)))


def row_count(engine: Engine, table: str) -> int:
    return len(snapshot(engine)[table])
