"""Indexes for the lookups of the async token paths and of revocation: a code by its user
and client (withdrawing a consent deletes the codes issued under it; deleting a client or a
user cascades), and a user's families with one client (revocation asks whether any is
still live).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_authorizationcode_client_id_user_id", "authorizationcode", ["client_id", "user_id"]),
    ("ix_authorizationcode_user_id", "authorizationcode", ["user_id"]),
    ("ix_tokenfamily_user_id_client_id", "tokenfamily", ["user_id", "client_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
