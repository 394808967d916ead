"""The portal's own pages. Each protected one shows a flask_kapu decorator at work.

========================  =========================================
page                      protected by
========================  =========================================
``/``, ``/forum``         nobody (reading is public)
``POST /forum``           ``@login_required``
``/my-data``              ``@login_required``
``/tax-return``           ``@requires_plusz``
``/tax-return/<ref>``     ``@requires_level("plusz")``
``/mandates``             ``@requires_plusz(methods={"webauthn"})``
``/dev/cards``            debug mode only
========================  =========================================
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from flask_kapu import current_account, login_required, requires_level, requires_plusz

from . import db
from .commands import DEMO_USERNAME
from .extensions import registry
from .forms import DONATIONS, SCOPES, ActionForm, MandateForm, PostForm, TaxReturnForm
from .i18n import gettext, ngettext
from .i18n import lazy_gettext as _l

portal = Blueprint("portal", __name__)

TAX_YEAR = 2025
TAX_RATE = 0.15

SERVICES = [
    {
        "endpoint": "portal.forum",
        "title": _l("Residents' forum"),
        "text": _l("Ask, suggest, discuss the town's affairs."),
        "needs": _l("Posting needs a login"),
        "badge": "open",
        "decorator": "@login_required (POST)",
    },
    {
        "endpoint": "portal.tax_return",
        "title": _l("Tax return"),
        "text": _l("Check the draft of your personal income tax return and submit it."),
        "needs": _l("Ügyfélkapu+"),
        "badge": "plusz",
        "decorator": "@requires_plusz",
    },
    {
        "endpoint": "portal.mandates",
        "title": _l("Mandates"),
        "text": _l("Authorise someone to handle your affairs."),
        "needs": _l("Passkey only"),
        "badge": "passkey",
        "decorator": '@requires_plusz(methods={"webauthn"})',
    },
    {
        "endpoint": "portal.my_data",
        "title": _l("My data"),
        "text": _l("What the town holds about you, in one place."),
        "needs": _l("Login required"),
        "badge": "login",
        "decorator": "@login_required",
    },
]

PERSON_FIELDS = [
    ("family_name", _l("Family name")),
    ("given_name", _l("Given name")),
    ("birth_date", _l("Date of birth")),
    ("birth_place", _l("Place of birth")),
    ("mother_name", _l("Mother's name")),
    ("address", _l("Address")),
]

REGISTERED_VIA = {
    "office": _l("at a government office"),
    "self": _l("online"),
    "eid": _l("online, with an e-ID card"),
}


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


@portal.after_request
def security_headers(response: Response) -> Response:
    """The same rules as flask_kapu's pages: no inline script or style, no framing."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@portal.app_context_processor
def portal_helpers() -> dict[str, Any]:
    return {"reference": db.reference, "scope_label": lambda key: SCOPES.get(key, key)}


@portal.get("/")
def home() -> str:
    outbox = current_app.debug and not current_app.config.get("MAIL_SERVER")
    return render_template(
        "home.html",
        services=SERVICES,
        outbox=outbox,
        demo_username=DEMO_USERNAME,
    )


# --- forum: anyone reads, a logged-in citizen writes ----------------------------------


@portal.get("/forum")
def forum() -> str:
    return render_template("forum.html", posts=db.recent_posts(), form=PostForm(formdata=None))


@portal.post("/forum")
@login_required
def post_to_forum() -> Response | tuple[str, int]:
    form = PostForm()
    if not form.validate_on_submit():
        return render_template("forum.html", posts=db.recent_posts(), form=form), 422
    db.add_post(
        account_id=current_account.id,
        author=current_account.username,
        title=form.title.data.strip(),
        body=form.body.data.strip(),
    )
    flash(gettext("Your post is published."))
    return redirect(url_for("portal.forum"))


# --- my data: any login ----------------------------------------------------------------


@portal.get("/my-data")
@login_required
def my_data() -> str:
    return render_template(
        "my_data.html",
        account=current_account,
        person=current_account.person or {},
        person_fields=PERSON_FIELDS,
        registered_via=REGISTERED_VIA.get(current_account.registered_via, ""),
        posts=ngettext("%(num)s post", "%(num)s posts", db.count_posts(current_account.id)),
        returns=db.tax_returns_of(current_account.id),
    )


# --- tax return: Ügyfélkapu+ -----------------------------------------------------------


def _sums(income: int, withheld: int) -> dict[str, int]:
    tax = round(income * TAX_RATE)
    return {"tax": tax, "withheld": withheld, "difference": tax - withheld}


def _draft(account_id: int) -> dict[str, int]:
    """The invented figures the tax office 'prepared' for this citizen."""
    income = 4_200_000 + (account_id * 373_000) % 3_000_000
    withheld = round(income * TAX_RATE) + (-18_500, 12_300, 7_400)[account_id % 3]
    return {"income": income, "withheld": withheld}


def _taxpayer() -> str:
    person = current_account.person or {}
    name = " ".join(p for p in (person.get("family_name"), person.get("given_name")) if p)
    return f"{name} ({current_account.username})" if name else str(current_account.username)


@portal.route("/tax-return", methods=["GET", "POST"])
@requires_plusz
def tax_return() -> Response | tuple[str, int]:
    draft = _draft(current_account.id)
    form = TaxReturnForm(data=draft)
    if form.validate_on_submit():
        ref = db.add_tax_return(
            account_id=current_account.id,
            year=TAX_YEAR,
            income=form.income.data,
            withheld=form.withheld.data,
            donation=form.donation.data or None,
        )
        return redirect(url_for("portal.tax_receipt", ref=ref))
    page = render_template(
        "tax_return.html",
        form=form,
        year=TAX_YEAR,
        taxpayer=_taxpayer(),
        draft=_sums(**draft),
        returns=db.tax_returns_of(current_account.id),
    )
    return page, 422 if form.errors else 200


@portal.get("/tax-return/<ref>")
@requires_level("plusz")
def tax_receipt(ref: str) -> tuple[str, int]:
    row = db.tax_return(current_account.id, ref)
    if row is None:
        return _not_found()
    page = render_template(
        "tax_receipt.html",
        ref=ref,
        row=row,
        taxpayer=_taxpayer(),
        sums=_sums(row.income, row.withheld),
        donation=DONATIONS.get(row.donation or "", ""),
    )
    return page, 200


# --- mandates: only a passkey will do --------------------------------------------------


@portal.route("/mandates", methods=["GET", "POST"])
@requires_plusz(methods={"webauthn"})
def mandates() -> Response | tuple[str, int]:
    form = MandateForm()
    if form.validate_on_submit():
        db.add_mandate(
            account_id=current_account.id,
            agent=form.agent.data.strip(),
            scope=form.scope.data,
            valid_until=form.valid_until.data,
        )
        flash(gettext("The mandate is recorded."))
        return redirect(url_for("portal.mandates"))
    page = render_template(
        "mandates.html",
        form=form,
        revoke_form=ActionForm(formdata=None),
        mandates=db.mandates_of(current_account.id),
    )
    return page, 422 if form.errors else 200


@portal.post("/mandates/<int:mandate_id>/revoke")
@requires_plusz(methods={"webauthn"})
def revoke_mandate(mandate_id: int) -> Response | tuple[str, int]:
    if not ActionForm().validate_on_submit():
        return _error_page(
            gettext("Something went wrong"),
            gettext("The form has expired. Reload the page and try again."),
            400,
        )
    if not db.revoke_mandate(current_account.id, mandate_id):
        return _not_found()
    flash(gettext("The mandate is revoked."))
    return redirect(url_for("portal.mandates"))


# --- development helpers ---------------------------------------------------------------


@portal.get("/dev/cards")
def demo_cards() -> str | tuple[str, int]:
    """The demo registry's invented cards, to try e-ID registration (debug mode only)."""
    if not current_app.debug:
        return _not_found()
    return render_template("demo_cards.html", cards=registry.cards)


@portal.app_errorhandler(NotFound)
def page_not_found(error: NotFound) -> NotFound | tuple[str, int]:
    """Unknown addresses get the portal's page; flask_kapu's JSON API keeps its own answer."""
    if request.path.startswith(current_app.config.get("KAPU_URL_PREFIX", "/kapu") + "/api/"):
        return error
    return _not_found()


@portal.errorhandler(DBAPIError)
def database_unavailable(error: DBAPIError) -> tuple[str, int, dict[str, str]]:
    """The portal's own data cannot be reached: a 503 that says to come back soon."""
    current_app.logger.exception("portal database unavailable")
    text, status = _error_page(
        gettext("Service temporarily unavailable"),
        gettext("We cannot reach our records just now. Please try again in a few seconds."),
        503,
    )
    return text, status, {"Retry-After": "5"}


def _error_page(title: str, text: str, status: int) -> tuple[str, int]:
    """The portal's own error pages (no app-wide handler: flask_kapu answers its own errors)."""
    return render_template("error.html", title=title, text=text), status


def _not_found() -> tuple[str, int]:
    return _error_page(gettext("Page not found"), gettext("There is no page at this address."), 404)
