"""For your own Alembic ``env.py``: leave flask_kapu's tables to ``flask kapu db upgrade``.

Pass it as ``context.configure(..., include_object=include_object)``.
"""

from flask_kapu.store.migrate import include_object

__all__ = ["include_object"]
