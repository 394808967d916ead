"""The portal's own pages, each asking for the login it needs."""

from datetime import timedelta

from flask import Blueprint

from flask_kapu import current_account, login_required, requires_level, requires_plusz

bp = Blueprint("portal", __name__)


@bp.get("/")
def home():
    return {"service": "Példaváros ügyintézés"}


@bp.get("/my-data")
@login_required  # a password login is enough (until the sunset date)
def my_data():
    return {"username": current_account.username}


@bp.get("/tax-return")
@requires_plusz  # a second factor proven in this session, any method
def tax_return():
    return {"username": current_account.username, "due": "2026-05-20"}


@bp.get("/bank-account")
@requires_plusz(max_age=timedelta(minutes=5), methods={"totp", "webauthn"})
def bank_account():
    # Proven in the last five minutes with an authenticator app or a passkey:
    # a code sent by e-mail is not enough to change where refunds are paid.
    return {"iban": "HU42 1177 3016 1111 1018 0000 0000"}


@bp.get("/documents")
@requires_level("plusz")  # the same as @requires_plusz, by name
def documents():
    return {"documents": []}
