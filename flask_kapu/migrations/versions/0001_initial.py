"""accounts, codes, attempt counters, audit

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import flask_kapu.store.models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kapu_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("person", sa.JSON(), nullable=True),
        sa.Column("registered_via", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", flask_kapu.store.models.UTCDateTime(), nullable=False),
        sa.Column("activated_at", flask_kapu.store.models.UTCDateTime(), nullable=True),
        sa.Column("password_changed_at", flask_kapu.store.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kapu_account")),
        sa.UniqueConstraint("username", name=op.f("uq_kapu_account_username")),
        sa.UniqueConstraint("username_key", name=op.f("uq_kapu_account_username_key")),
    )
    op.create_table(
        "kapu_attempt_counter",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", flask_kapu.store.models.UTCDateTime(), nullable=True),
        sa.Column("updated_at", flask_kapu.store.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kapu_attempt_counter")),
    )
    op.create_table(
        "kapu_audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("at", flask_kapu.store.models.UTCDateTime(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["kapu_account.id"],
            name=op.f("fk_kapu_audit_event_account_id_kapu_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kapu_audit_event")),
    )
    with op.batch_alter_table("kapu_audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_kapu_audit_event_account_at", ["account_id", "at"], unique=False)

    op.create_table(
        "kapu_one_time_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", flask_kapu.store.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", flask_kapu.store.models.UTCDateTime(), nullable=False),
        sa.Column("used_at", flask_kapu.store.models.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("session_hint", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["kapu_account.id"],
            name=op.f("fk_kapu_one_time_code_account_id_kapu_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kapu_one_time_code")),
    )
    with op.batch_alter_table("kapu_one_time_code", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kapu_one_time_code_account_purpose", ["account_id", "purpose"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("kapu_one_time_code", schema=None) as batch_op:
        batch_op.drop_index("ix_kapu_one_time_code_account_purpose")

    op.drop_table("kapu_one_time_code")
    with op.batch_alter_table("kapu_audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_kapu_audit_event_account_at")

    op.drop_table("kapu_audit_event")
    op.drop_table("kapu_attempt_counter")
    op.drop_table("kapu_account")
