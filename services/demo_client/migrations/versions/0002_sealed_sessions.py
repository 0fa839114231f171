"""Sessions sealed at rest: `client_session` replaces `browser_session`, whose rows held
tokens in clear. Those rows are dropped, not converted: each browser starts a new session
(and connects again), and no clear token outlives the upgrade.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("browser_session")
    op.create_table(
        "client_session",
        sa.Column("id_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("flows", sa.JSON(), nullable=False),
        sa.Column("notice", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index(op.f("ix_client_session_expires_at"), "client_session", ["expires_at"])


def downgrade() -> None:
    """Back to 0001: sessions go again (sealed rows cannot be opened by the older version)."""
    op.drop_index(op.f("ix_client_session_expires_at"), table_name="client_session")
    op.drop_table("client_session")
    op.create_table(
        "browser_session",
        sa.Column("id_hash", sa.String(), nullable=False),
        sa.Column("csrf_token", sa.String(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("grants", sa.JSON(), nullable=False),
        sa.Column("flows", sa.JSON(), nullable=False),
        sa.Column("notice", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
