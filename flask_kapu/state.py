"""What the extension keeps per app in ``app.extensions["kapu"]``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from flask import current_app, request
from werkzeug.wrappers import Response

from . import session as kapu_session
from .config import KapuConfig
from .identity import EidTokens, IdentityRegistry
from .mail import Mailer, MailNotifier
from .ratelimit import RateLimiter
from .services import Context, Deps
from .store import Account

__all__ = ["KapuState", "get_state", "request_context"]

#: ``unauthorized`` handlers take no argument; the others get the refusal error.
RefusalHandler = Callable[..., Response]


@dataclasses.dataclass
class KapuState:
    """One app's flask_kapu: settings, services' dependencies and web parts."""

    config: KapuConfig
    deps: Deps
    limiter: RateLimiter
    mailer: Mailer
    notifier: MailNotifier
    eid_tokens: EidTokens
    registry: IdentityRegistry | None
    #: Refusal handlers by name, shared with the ``Kapu`` object so that one
    #: registered after ``init_app`` still applies.
    handlers: dict[str, RefusalHandler]
    #: Hooks the host registers by decorator (``user_for_account``), shared the same way.
    hooks: dict[str, Callable[[Account], Any]] = dataclasses.field(default_factory=dict)

    def handler(self, name: str, default: RefusalHandler) -> RefusalHandler:
        return self.handlers.get(name, default)


def get_state() -> KapuState:
    """The current app's state; a clear error if ``Kapu`` was never initialised."""
    try:
        state = current_app.extensions["kapu"]
    except KeyError:
        raise RuntimeError("flask_kapu is not initialised on this app: call Kapu(app)") from None
    if not isinstance(state, KapuState):
        raise RuntimeError("app.extensions['kapu'] is not flask_kapu's state")
    return state


def request_context() -> Context:
    """The audit context of the current request, with the login session it was checked for."""
    return Context(
        ip=request.remote_addr,
        user_agent=request.user_agent.string or None,
        session_id=kapu_session.checked_session(),
    )
