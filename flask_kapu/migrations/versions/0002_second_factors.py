"""second factors, used TOTP steps, recovery codes

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import flask_kapu.store.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kapu_factor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=512), nullable=True),
        sa.Column("credential_id", sa.LargeBinary(length=1024), nullable=True),
        sa.Column("public_key", sa.LargeBinary(length=2048), nullable=True),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.JSON(), nullable=True),
        sa.Column("aaguid", sa.String(length=36), nullable=True),
        sa.Column("created_at", flask_kapu.store.models.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", flask_kapu.store.models.UTCDateTime(), nullable=True),
        sa.Column("last_used_at", flask_kapu.store.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["kapu_account.id"],
            name=op.f("fk_kapu_factor_account_id_kapu_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kapu_factor")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_kapu_factor_credential_id")),
    )
    with op.batch_alter_table("kapu_factor", schema=None) as batch_op:
        batch_op.create_index("ix_kapu_factor_account", ["account_id"], unique=False)

    op.create_table(
        "kapu_recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", flask_kapu.store.models.UTCDateTime(), nullable=False),
        sa.Column("used_at", flask_kapu.store.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["kapu_account.id"],
            name=op.f("fk_kapu_recovery_code_account_id_kapu_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kapu_recovery_code")),
    )
    with op.batch_alter_table("kapu_recovery_code", schema=None) as batch_op:
        batch_op.create_index("ix_kapu_recovery_code_account", ["account_id"], unique=False)

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


def downgrade() -> None:
    op.drop_table("kapu_used_totp_step")
    with op.batch_alter_table("kapu_recovery_code", schema=None) as batch_op:
        batch_op.drop_index("ix_kapu_recovery_code_account")

    op.drop_table("kapu_recovery_code")
    with op.batch_alter_table("kapu_factor", schema=None) as batch_op:
        batch_op.drop_index("ix_kapu_factor_account")

    op.drop_table("kapu_factor")
