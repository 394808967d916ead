"""Side-by-side benchmarks of flask_kapu, Flask-Login and Flask-Security-Too (``make bench``).

Every case runs in one process, interleaved round by round (A, B, C, ... then
again), so that the noise of this shared machine hits all of them alike; a
figure is the median of the per-round means, shown with their min and max.

Modules, one concept each:

- :mod:`bench.settings` — the shared constants (secret key, password, sizes).
- :mod:`bench.data` — the databases: schema, 1,000 / 1,000,000 bulk-inserted
  accounts, the SQLite cache under ``bench/.cache/``, PostgreSQL when
  ``KAPU_TEST_DATABASE_URL`` is set.
- :mod:`bench.apps` — the Flask apps under test, one per library and database.
- :mod:`bench.timing` — the interleaved runner and its statistics.
- :mod:`bench.cases` — what is measured: protected views, login, step-up.
- :mod:`bench.throughput` — gunicorn (2 workers) and a small socket load client.
- :mod:`bench.report` — the table, ``bench/RESULTS.md`` and ``bench/results.json``.
- :mod:`bench.profiling` — ``python -m bench --profile CASE`` (pyinstrument).
"""

from __future__ import annotations

__all__: list[str] = []
