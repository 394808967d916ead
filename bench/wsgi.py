"""The app gunicorn serves in the throughput run: ``bench.wsgi:application``.

The database comes from ``BENCH_DATABASE_URL`` (set by :mod:`bench.throughput`).
"""

from __future__ import annotations

import os

from .apps import kapu_app

__all__ = ["application"]

application = kapu_app(os.environ["BENCH_DATABASE_URL"], name="bench_wsgi").app
