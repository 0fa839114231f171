"""OpenID Connect: the user's profile update time, the session's id, the client's OIDC
registration metadata, and what an `openid` authorization code carries to its ID token.

Existing users' `updated_at` starts at their `created_at`; existing clients get the OIDC
defaults (RS256 ID tokens, public subjects, no logout redirect); existing sessions have no
`sid` (their ID tokens carry none) until the user logs in again.

Revision ID: 0004
Revises: 0003
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_USER = sa.table("user", sa.column("created_at"), sa.column("updated_at"))
_EPOCH = "1970-01-01 00:00:00"
# Columns that need a value on existing rows get a constant server default (the models set
# them), dropped again on PostgreSQL. Plain ADD COLUMN, never SQLite's batch copy: these
# tables are referenced by foreign keys, and dropping one to copy it would cascade.
_NOT_NULL: dict[str, dict[str, tuple[Any, Any]]] = {
    "user": {"updated_at": (sa.DateTime(timezone=True), _EPOCH)},
    "client": {
        "id_token_signed_response_alg": (sa.String(length=10), "RS256"),
        "post_logout_redirect_uris": (sa.JSON(), "[]"),
        "subject_type": (sa.String(length=10), "public"),
        "require_auth_time": (sa.Boolean(), sa.false()),
    },
}
_NULLABLE: dict[str, dict[str, Any]] = {
    "usersession": {"sid": sa.String()},
    "client": {
        "userinfo_signed_response_alg": sa.String(length=10),
        "default_max_age": sa.Integer(),
    },
    "authorizationcode": {
        "nonce": sa.String(),
        "auth_time": sa.DateTime(timezone=True),
        "sid": sa.String(),
    },
}


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, columns in _NOT_NULL.items():
        for name, (type_, default) in columns.items():
            op.add_column(table, sa.Column(name, type_, nullable=False, server_default=default))
            if postgresql:
                op.alter_column(table, name, existing_type=type_, server_default=None)
    op.execute(_USER.update().values(updated_at=_USER.c.created_at))
    for table, nullable in _NULLABLE.items():
        for name, type_ in nullable.items():
            op.add_column(table, sa.Column(name, type_, nullable=True))
    op.create_index(op.f("ix_usersession_sid"), "usersession", ["sid"])


def downgrade() -> None:
    op.drop_index(op.f("ix_usersession_sid"), table_name="usersession")
    for table, names in [*_NULLABLE.items(), *_NOT_NULL.items()]:
        for name in names:
            op.drop_column(table, name)
