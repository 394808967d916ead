"""flask_kapu: Hungary's Ügyfélkapu and Ügyfélkapu+ login model for Flask apps."""

from flask_login import current_user as current_account

from .decorators import login_required
from .errors import KapuConfigError, KapuError
from .extension import Kapu
from .identity import DemoRegistry, IdentityRegistry

__all__ = [
    "DemoRegistry",
    "IdentityRegistry",
    "Kapu",
    "KapuConfigError",
    "KapuError",
    "current_account",
    "login_required",
]
