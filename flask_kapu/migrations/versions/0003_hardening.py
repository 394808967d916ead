"""last accepted TOTP step per authenticator (replaces the used-step rows), key fingerprints

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import flask_kapu.store.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kapu_factor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_step", sa.BigInteger(), nullable=True))
    op.drop_table("kapu_used_totp_step")

    op.create_table(
        "kapu_meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_kapu_meta")),
    )


def downgrade() -> None:
    op.drop_table("kapu_meta")
    op.create_table(
        "kapu_used_totp_step",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("used_at", flask_kapu.store.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["kapu_account.id"],
            name=op.f("fk_kapu_used_totp_step_account_id_kapu_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "step", name=op.f("pk_kapu_used_totp_step")),
    )
    with op.batch_alter_table("kapu_factor", schema=None) as batch_op:
        batch_op.drop_column("last_step")
