"""Second-factor methods: pure logic over the store; pyotp lives only here."""

from .base import Factor
from .email_code import EmailCodeFactor
from .recovery import RecoveryFactor
from .totp import TotpFactor

__all__ = ["EmailCodeFactor", "Factor", "RecoveryFactor", "TotpFactor"]
