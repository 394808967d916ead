"""A second factor of your own: codes checked by an SMS provider's verification API."""

from flask_kapu import services
from flask_kapu import session as kapu_session
from flask_kapu.state import get_state, request_context
from flask_kapu.store import Factor


class SmsFactor:
    """flask_kapu's Factor protocol: ``method``, ``normalize()`` and ``verify()``."""

    method = "sms"

    def __init__(self, provider):
        self.provider = provider  # your SMS gateway's client

    def normalize(self, raw):
        code = raw.replace(" ", "")
        return code if len(code) == 6 and code.isascii() and code.isdigit() else None

    def verify(self, repo, account, code, now):
        # The host stored the phone number as the factor's label when it enrolled it.
        phones = [factor.label for factor in repo.factors(account.id, self.method)]
        return any(self.provider.check(phone, code) for phone in phones)


def enrol_sms(account, phone):
    """Your enrolment view calls this once the phone number has been confirmed."""
    deps = get_state().deps
    now = deps.clock()
    with deps.store.transaction() as repo:
        repo.add_factor(
            Factor(
                account_id=account.id,
                method="sms",
                label=phone,
                sign_count=0,
                created_at=now,
                confirmed_at=now,
            )
        )


def step_up_with_sms(account, code):
    """Your step-up view calls this: attempt limits and audit as for the built-in methods."""
    deps = get_state().deps
    services.verify_code(deps, request_context(), account, method="sms", code=code)
    kapu_session.add_method(account, "sms", at=deps.clock())
