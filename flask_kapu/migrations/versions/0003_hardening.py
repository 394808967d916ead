"""last accepted TOTP step per authenticator, key fingerprints

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kapu_factor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_step", sa.BigInteger(), nullable=True))

    op.create_table(
        "kapu_meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_kapu_meta")),
    )


def downgrade() -> None:
    op.drop_table("kapu_meta")
    with op.batch_alter_table("kapu_factor", schema=None) as batch_op:
        batch_op.drop_column("last_step")
