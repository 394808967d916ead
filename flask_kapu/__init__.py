"""flask_kapu: Hungary's Ügyfélkapu and Ügyfélkapu+ login model for Flask apps."""

from .auth import current_account
from .decorators import login_required, requires_level, requires_plusz
from .errors import KapuConfigError, KapuError
from .extension import Kapu
from .factors import Factor
from .identity import DemoRegistry, IdentityRegistry
from .levels import ACR, Level
from .session import current_proof

__all__ = [
    "ACR",
    "DemoRegistry",
    "Factor",
    "IdentityRegistry",
    "Kapu",
    "KapuConfigError",
    "KapuError",
    "Level",
    "current_account",
    "current_proof",
    "login_required",
    "requires_level",
    "requires_plusz",
]
