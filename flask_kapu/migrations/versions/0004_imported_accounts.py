"""the host app's username of an imported account

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kapu_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("imported_username", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_kapu_account_imported_username"), ["imported_username"]
        )


def downgrade() -> None:
    with op.batch_alter_table("kapu_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_kapu_account_imported_username"), type_="unique")
        batch_op.drop_column("imported_username")
