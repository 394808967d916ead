"""Per-IP (and per-document) rate limits over the ``limits`` storage.

Memory storage by default; ``KAPU_RATELIMIT_STORAGE_URI=redis://...`` shares
the counts between app instances. If the storage is unreachable the limit
*fails open* and logs a warning: the per-username attempt counters and locks
live in the database and still hold, so a Redis outage must not lock every
citizen out of the login.

Behind a reverse proxy every request comes from the proxy's address: with
``KAPU_TRUSTED_PROXIES`` set, werkzeug's ProxyFix puts the citizen's address
in ``remote_addr``; forwarded requests without it are warned about once.
"""

from __future__ import annotations

import functools
import logging
import math
import time

from flask import request
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from .errors import TooManyAttempts

__all__ = ["RateLimiter", "warn_unconfigured_proxy"]

log = logging.getLogger(__name__)


class RateLimiter:
    """Checks named limits; raises :class:`TooManyAttempts` with ``retry_after``."""

    def __init__(self, storage_uri: str) -> None:
        self.storage = storage_from_string(storage_uri)
        self._limiter = FixedWindowRateLimiter(self.storage)

    def hit(self, limit: str, scope: str, identifier: str) -> None:
        """Count one request of ``identifier`` in ``scope`` against ``limit``."""
        try:
            for item in parse_many(limit):
                if not self._limiter.hit(item, "kapu", scope, identifier):
                    reset = self._limiter.get_window_stats(
                        item, "kapu", scope, identifier
                    ).reset_time
                    raise TooManyAttempts(retry_after=math.ceil(reset - time.time()))
        except TooManyAttempts:
            raise
        except Exception:  # storage down: fail open (module docstring says why)
            log.warning("rate-limit storage unavailable; %s not limited", scope, exc_info=True)

    def hit_ip(self, limit: str, scope: str) -> None:
        if "X-Forwarded-For" in request.headers and _PROXY_FIXED not in request.environ:
            warn_unconfigured_proxy()
        self.hit(limit, scope, request.remote_addr or "unknown")

    def reset(self) -> None:
        """Forget every count (tests and the CLI)."""
        self.storage.reset()


_PROXY_FIXED = "werkzeug.proxy_fix.orig"  # set by ProxyFix, ours or the host's


@functools.cache
def warn_unconfigured_proxy() -> None:
    """Once per process: forwarded requests while every client shares the proxy's limits."""
    log.warning(
        "requests carry X-Forwarded-For but no proxy is trusted: per-IP limits count the "
        "proxy's address for every client; set KAPU_TRUSTED_PROXIES to the number of proxies"
    )
