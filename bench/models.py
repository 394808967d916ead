"""The comparators' models, the way their documentation writes them (Flask-SQLAlchemy).

- Flask-Login: a ``UserMixin`` model over flask_kapu's own ``kapu_account``
  table, so both load the very same rows from the same database.
- Flask-Security-Too: its complete ``fsqla_v3`` models in tables of their
  own (``fs_user`` ...), filled with as many users as flask_kapu has accounts.
"""

from __future__ import annotations

from typing import Any

from flask_login import UserMixin
from flask_security.models import fsqla_v3 as fsqla
from flask_security.models.fsqla import FsModels
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["FlUser", "Role", "User", "WebAuthn", "fl_db", "fs_db"]

fl_db = SQLAlchemy()
fs_db = SQLAlchemy()

Model: Any = fl_db.Model
FsModel: Any = fs_db.Model


class FlUser(Model, UserMixin):  # type: ignore[misc]
    """Flask-Login's user: the same ``kapu_account`` rows flask_kapu loads."""

    __tablename__ = "kapu_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))


FsModels.set_db_info(  # type: ignore[no-untyped-call]
    fs_db,
    user_table_name="fs_user",
    role_table_name="fs_role",
    webauthn_table_name="fs_webauthn",
)


# The class names are the ones fsqla's relationships refer to.
class Role(FsModel, fsqla.FsRoleMixin):  # type: ignore[misc]
    __tablename__ = "fs_role"


class User(FsModel, fsqla.FsUserMixin):  # type: ignore[misc]
    __tablename__ = "fs_user"


class WebAuthn(FsModel, fsqla.FsWebAuthnMixin):  # type: ignore[misc]
    __tablename__ = "fs_webauthn"
