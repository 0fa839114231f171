"""Droplet ids are never reused after a delete: SQLite's AUTOINCREMENT (PostgreSQL's
sequence never reused them). The table is copied into one declared AUTOINCREMENT; SQLite
then starts new ids after the highest one kept.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _recreate_droplet(autoincrement=True)


def downgrade() -> None:
    _recreate_droplet(autoincrement=False)


def _recreate_droplet(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "droplet", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass
