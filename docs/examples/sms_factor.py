"""A second factor of your own: codes checked by an SMS provider's verification API."""

from flask_kapu import auth, services
from flask_kapu import session as kapu_session
from flask_kapu.state import get_state, request_context


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


def enrol_sms(account, phone, password=None):
    """Your enrolment view calls this once the phone number has been confirmed.

    The rules of the built-in methods apply: a first factor needs the current
    ``password`` or a login minutes old, and brings the recovery codes it returns;
    the change is audited and mailed to the owner with this request's browser and IP.
    """
    proof = kapu_session.current_proof()
    enrolled = services.enrolment.add_confirmed(
        get_state().deps,
        request_context(),
        account,
        method="sms",
        label=phone,
        password=password,
        auth_time=proof.auth_time if proof else None,
    )
    return enrolled.recovery_codes


def step_up_with_sms(account, code):
    """Your step-up view calls this: attempt limits and audit as for the built-in methods."""
    deps = get_state().deps
    services.verify_code(deps, request_context(), account, method="sms", code=code)
    auth.add_method(account, "sms")  # the session steps up, rotated (your user kept, if any)
