"""server-side sessions, remembered browsers, closed accounts

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from flask_kapu.store.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kapu_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("previous_token_hash", sa.String(length=64), nullable=True),
        sa.Column("rotated_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("browser", sa.String(length=120), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("methods", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["kapu_account.id"],
            name=op.f("fk_kapu_session_account_id_kapu_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kapu_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_kapu_session_token_hash")),
    )
    with op.batch_alter_table("kapu_session", schema=None) as batch_op:
        batch_op.create_index("ix_kapu_session_account", ["account_id"], unique=False)

    op.create_table(
        "kapu_trusted_browser",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("browser", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["kapu_account.id"],
            name=op.f("fk_kapu_trusted_browser_account_id_kapu_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kapu_trusted_browser")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_kapu_trusted_browser_token_hash")),
    )
    with op.batch_alter_table("kapu_trusted_browser", schema=None) as batch_op:
        batch_op.create_index("ix_kapu_trusted_browser_account", ["account_id"], unique=False)

    with op.batch_alter_table("kapu_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("disabled_reason", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kapu_account", schema=None) as batch_op:
        batch_op.drop_column("disabled_reason")
        batch_op.drop_column("closed_at")
    with op.batch_alter_table("kapu_trusted_browser", schema=None) as batch_op:
        batch_op.drop_index("ix_kapu_trusted_browser_account")
    op.drop_table("kapu_trusted_browser")
    with op.batch_alter_table("kapu_session", schema=None) as batch_op:
        batch_op.drop_index("ix_kapu_session_account")
    op.drop_table("kapu_session")
