"""Authenticator apps (RFC 6238): 30 s steps, 6 digits, SHA-1, ±1 step.

SHA-1 and 6 digits are what Google Authenticator and most apps expect. Each
authenticator keeps the newest time step it was accepted for, and only a newer
step is accepted after it (RFC 6238 §5.2): a code works at most once, on any
instance, and never after a newer one.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime

import pyotp
import segno

from ..codes import normalize_digits
from ..crypto import SecretBox
from ..store import Account, Factor, Repository

__all__ = ["DIGITS", "PERIOD", "TotpFactor"]

log = logging.getLogger(__name__)

PERIOD = 30
DIGITS = 6
WINDOW = 1


class TotpFactor:
    method = "totp"

    def __init__(self, box: SecretBox, *, issuer: str) -> None:
        self.box = box
        self.issuer = issuer

    @staticmethod
    def new_secret() -> str:
        """A random base32 key of 160 bits."""
        return pyotp.random_base32(32)

    def uri(self, secret: str, username: str) -> str:
        """The ``otpauth://`` URI an app scans."""
        return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(
            name=username, issuer_name=self.issuer
        )

    @staticmethod
    def qr_svg(uri: str, title: str) -> str:
        """The URI as an inline SVG QR code."""
        # a viewBox (omitsize) lets the page scale the code without cropping it
        return str(
            segno.make(uri, error="m").svg_inline(scale=5, title=title, border=4, omitsize=True)
        )

    @staticmethod
    def current_code(secret: str, now: datetime) -> str:
        return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).at(now)

    def normalize(self, raw: str) -> str | None:
        return normalize_digits(raw, DIGITS)

    @staticmethod
    def matching_step(secret: str, code: str, now: datetime) -> int | None:
        """The time step within ±1 of ``now`` whose code is ``code``."""
        totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
        current = totp.timecode(now)
        for step in (current, current - WINDOW, current + WINDOW):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None

    def check(self, repo: Repository, factor: Factor, code: str, now: datetime) -> bool:
        """Whether ``code`` is a code of ``factor`` newer than any it accepted; claims its step."""
        if factor.secret is None:
            return False
        try:
            secret = self.box.open(factor.secret)
        except ValueError:  # sealed under a key no longer configured: run rotate-keys first
            log.error("authenticator %s is sealed under an unknown key", factor.id)
            return False
        step = self.matching_step(secret, code, now)
        return step is not None and repo.advance_totp_step(factor.id, step)

    def verify(self, repo: Repository, account: Account, code: str, now: datetime) -> bool:
        for factor in repo.factors(account.id, self.method):
            if self.check(repo, factor, code, now):
                repo.touch_factor(factor.id, now)
                return True
        return False
