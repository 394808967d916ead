"""migrations/versions/…_link_to_accounts.py: the app's revision that points at accounts.

Run `flask kapu db upgrade` before it: it creates `kapu_account`.
"""

import sqlalchemy as sa
from alembic import op

revision = "l002"
down_revision = "l001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("kapu_account_id", sa.Integer, nullable=True))
        batch.create_unique_constraint("uq_users_kapu_account_id", ["kapu_account_id"])
        batch.create_foreign_key(
            "fk_users_kapu_account_id",
            "kapu_account",
            ["kapu_account_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("kapu_account.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_notes_account_id", "notes", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_notes_account_id", "notes")
    op.drop_table("notes")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("fk_users_kapu_account_id", type_="foreignkey")
        batch.drop_constraint("uq_users_kapu_account_id", type_="unique")
        batch.drop_column("kapu_account_id")
