"""Blinker signals sent after each account event has been committed.

Receivers get the Flask app as sender and ``account`` (and sometimes more)
as keyword arguments, e.g.::

    from flask_kapu.signals import login_succeeded

    @login_succeeded.connect
    def remember(app, account, **extra): ...
"""

from __future__ import annotations

from blinker import Namespace

__all__ = [
    "account_activated",
    "account_locked",
    "account_registered",
    "factor_added",
    "factor_removed",
    "logged_out",
    "login_failed",
    "login_succeeded",
    "password_changed",
    "password_reset",
    "reset_requested",
    "stepped_up",
]

_signals = Namespace()

account_registered = _signals.signal("account-registered")
account_activated = _signals.signal("account-activated")
login_succeeded = _signals.signal("login-succeeded")
login_failed = _signals.signal("login-failed")
account_locked = _signals.signal("account-locked")
logged_out = _signals.signal("logged-out")
reset_requested = _signals.signal("reset-requested")
password_reset = _signals.signal("password-reset")
password_changed = _signals.signal("password-changed")
stepped_up = _signals.signal("stepped-up")
factor_added = _signals.signal("factor-added")
factor_removed = _signals.signal("factor-removed")
