"""The security release: consent per response type, signing keys under a KEK, confirmed
sign-ups, and an index on every `expires_at` the maintenance loop purges by.

Existing consents were all given through the code flow (implicit consents did not exist on
their own), so they become `code` consents. Existing signing keys are in clear; their PEM
moves to `private_key` with no `kek_id`, which the key store still loads (with a warning
until `dropletbook-as rotate-kek` seals them).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

EXPIRING = (
    "usersession",
    "authorizationcode",
    "refreshtoken",
    "issuedaccesstoken",
    "revokedaccesstoken",
    "revokedclient",
)
OLD_UNIQUE = ["user_id", "client_id"]
NEW_UNIQUE = ["user_id", "client_id", "response_type"]
# SQLite's unnamed constraints get a name to be dropped by (PostgreSQL's are read back).
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def upgrade() -> None:
    op.create_table(
        "pendingsignup",
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(op.f("ix_pendingsignup_email"), "pendingsignup", ["email"])
    for table in ("pendingsignup", *EXPIRING):
        op.create_index(op.f(f"ix_{table}_expires_at"), table, ["expires_at"])

    with op.batch_alter_table("consent", naming_convention=SQLITE_NAMES) as batch:
        batch.add_column(
            sa.Column("response_type", sa.String(length=20), nullable=False, server_default="code")
        )
        batch.drop_constraint(_unique_name("consent", OLD_UNIQUE), type_="unique")
        batch.create_unique_constraint(_postgres_name("consent", NEW_UNIQUE), NEW_UNIQUE)
    with op.batch_alter_table("consent") as batch:
        batch.alter_column("response_type", server_default=None)  # the models set it

    with op.batch_alter_table("signingkeyrecord") as batch:
        batch.alter_column("private_pem", new_column_name="private_key")
        batch.add_column(sa.Column("kek_id", sa.String(), nullable=True))


def downgrade() -> None:
    """Back to 0001: keys sealed under a KEK and implicit consents cannot go back; they go."""
    op.execute("DELETE FROM signingkeyrecord WHERE kek_id IS NOT NULL")
    with op.batch_alter_table("signingkeyrecord") as batch:
        batch.drop_column("kek_id")
        batch.alter_column("private_key", new_column_name="private_pem")

    op.execute("DELETE FROM consent WHERE response_type <> 'code'")
    with op.batch_alter_table("consent", naming_convention=SQLITE_NAMES) as batch:
        batch.drop_constraint(_unique_name("consent", NEW_UNIQUE), type_="unique")
        batch.create_unique_constraint(_postgres_name("consent", OLD_UNIQUE), OLD_UNIQUE)
        batch.drop_column("response_type")

    for table in (*EXPIRING, "pendingsignup"):
        op.drop_index(op.f(f"ix_{table}_expires_at"), table_name=table)
    op.drop_index(op.f("ix_pendingsignup_email"), table_name="pendingsignup")
    op.drop_table("pendingsignup")


def _unique_name(table: str, columns: list[str]) -> str:
    """The name of the table's unique constraint on exactly these columns; an unnamed one
    (SQLite) by the name SQLITE_NAMES gives it."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints(table):
        if constraint["column_names"] == columns:
            return constraint["name"] or f"uq_{table}_{'_'.join(columns)}"
    raise LookupError(f"no unique constraint on {table} {columns}")


def _postgres_name(table: str, columns: list[str]) -> str:
    """The name PostgreSQL gives an unnamed constraint, as `create_all` leaves it."""
    return f"{table}_{'_'.join(columns)}_key"
