"""Constants every part of the benchmark shares."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BENCH_DIR",
    "CACHE_DIR",
    "LAYOUT_VERSION",
    "PASSWORD",
    "SAMPLE_SIZE",
    "SECRET_KEY",
    "TOTP_SECRET",
    "USER_AGENT",
]

BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".cache"

#: Bump when the generated rows change, so a cached SQLite file is rebuilt.
LAYOUT_VERSION = "3"

SECRET_KEY = "flask_kapu benchmark secret key, not for production"  # noqa: S105
PASSWORD = "Tavaszi-Szel-42"  # noqa: S105 - the password of every generated account
#: The authenticator key of every account that has one (sealed in the database).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105
#: Sent by every client, so Flask-Login's session protection sees one browser.
USER_AGENT = "kapu-bench/1"

#: Accounts of each kind the cases act as, spread over the whole id range.
SAMPLE_SIZE = 24
