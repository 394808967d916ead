"""The Flask extensions the portal uses, created once and bound in ``create_app``."""

from __future__ import annotations

from flask_kapu import DemoRegistry, Kapu

#: The e-ID registry. A real portal passes a client of the personal data and
#: address registry; the demo one holds invented cards (listed at /dev/cards).
registry = DemoRegistry()

#: Ügyfélkapu accounts, their pages under /kapu and the decorators.
kapu = Kapu(registry=registry)
