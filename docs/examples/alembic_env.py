"""For your own Alembic ``env.py``: leave flask_kapu's tables to ``flask kapu db upgrade``.

Pass it as ``context.configure(..., include_object=include_object)``.
"""


def include_object(obj, name, type_, reflected, compare_to):
    """Skip flask_kapu's tables, and their columns and indexes, in autogenerate."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not str(table).startswith("kapu_")
