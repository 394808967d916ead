"""Run the Alembic migrations shipped inside the package.

flask_kapu keeps its revision in its own version table, so its history and a
host app's (``flask db upgrade``) share a database without seeing each other.
"""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String, Table, inspect
from sqlalchemy.engine import Connection, Engine

from ..errors import KapuConfigError

__all__ = ["VERSION_TABLE", "alembic_config", "include_object", "upgrade"]

#: flask_kapu's Alembic version table; the host's stays ``alembic_version``.
VERSION_TABLE = "kapu_alembic_version"
_SHARED_VERSION_TABLE = "alembic_version"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("flask_kapu") / "migrations"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` to ``revision``."""
    config = alembic_config()
    with engine.begin() as connection:
        _carry_over_version(connection, config)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """For a host's Alembic ``env.py``: leave flask_kapu's tables (and their columns and
    indexes) out of autogenerate, which would otherwise propose to drop them.

    Pass it as ``context.configure(..., include_object=include_object)``.
    """
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return not str(table or "").startswith("kapu_")


def _carry_over_version(connection: Connection, config: Config) -> None:
    """Move flask_kapu's revision out of the shared ``alembic_version`` table, where an
    install that ran its migrations through a host's Alembic left it, into its own table."""
    tables = inspect(connection).get_table_names()
    if _SHARED_VERSION_TABLE not in tables:
        return
    ours = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    shared = _version_table(_SHARED_VERSION_TABLE)
    found = [
        row
        for row in connection.execute(shared.select()).scalars()
        if row in ours  # only flask_kapu's: the host's own revision stays where it is
    ]
    if not found:
        return
    own = _version_table(VERSION_TABLE)
    if VERSION_TABLE in tables and connection.execute(own.select()).first() is not None:
        raise KapuConfigError(
            _SHARED_VERSION_TABLE,
            f"holds flask_kapu's revision {found}, which {VERSION_TABLE} already records; "
            "delete the stale row",
        )
    own.create(connection, checkfirst=True)
    connection.execute(own.insert(), [{"version_num": revision} for revision in found])
    connection.execute(shared.delete().where(shared.c.version_num.in_(found)))


def _version_table(name: str) -> Table:
    return Table(name, MetaData(), Column("version_num", String(32), primary_key=True))
