"""Consent that cannot be carried over: a consent records the redirect URIs it was given
for, and a rotated secret revokes the client's client-credentials tokens.

Existing consents record no redirect URI (which URIs their users saw is not known), so each
asks once more on its next authorization request. Existing revoked clients (deleted ones)
get the epoch as their client-credentials cut-off: their `revoked_at` covers every token.

Revision ID: 0005
Revises: 0004
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_EPOCH = "1970-01-01 00:00:00"
# Plain ADD COLUMN with a constant server default, dropped again on PostgreSQL (the models
# set the values), as in 0004: never SQLite's batch copy of a table with foreign keys.
_COLUMNS: dict[str, tuple[str, Any, str]] = {
    "consent": ("redirect_uris", sa.JSON(), "[]"),
    "revokedclient": ("client_credentials_revoked_at", sa.DateTime(timezone=True), _EPOCH),
}


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, (name, type_, default) in _COLUMNS.items():
        op.add_column(table, sa.Column(name, type_, nullable=False, server_default=default))
        if postgresql:
            op.alter_column(table, name, existing_type=type_, server_default=None)
    op.add_column(
        "client",
        sa.Column("client_credentials_revoked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("client", "client_credentials_revoked_at")
    for table, (name, _, _) in _COLUMNS.items():
        op.drop_column(table, name)
