"""Copy flask_kapu's account events into the portal's own security log."""

import logging

from flask_kapu.signals import account_locked, factor_removed, login_failed, login_succeeded

log = logging.getLogger("portal.security")


def _name(account):
    return account.username if account is not None else "(no such username)"


def on_login(app, account, **extra):
    log.info("login: %s", account.username)


def on_login_failed(app, account, **extra):
    log.warning("wrong secret typed: %s", _name(account))


def on_locked(app, account, until, **extra):
    log.warning("locked until %s: %s", until.isoformat(), _name(account))


def on_factor_removed(app, account, method, **extra):
    log.warning("second factor removed: %s (%s)", account.username, method)


def connect(app):
    """Listen to ``app``'s events only: flask_kapu sends each with the app as sender."""
    login_succeeded.connect(on_login, sender=app)
    login_failed.connect(on_login_failed, sender=app)
    account_locked.connect(on_locked, sender=app)
    factor_removed.connect(on_factor_removed, sender=app)
