"""The "Sessions and devices" section of ``/security``: where the account is logged in,
and the buttons that end those logins.

Ending another session needs a fresh Ügyfélkapu+ (``KAPU_FRESH_PLUSZ_MAX_AGE``),
as removing a factor does, so that a stolen session cannot end its owner's;
without one the user is sent through ``/plusz`` and back. Ending this one is a
logout. The remembered browsers are listed beside them (forgetting one is
``html_trusted``'s). Times are shown in ``KAPU_TIMEZONE``, the citizen's clock.
"""

from __future__ import annotations

from flask import redirect, url_for
from werkzeug.wrappers import Response

from ..auth import current_account, refusal
from ..errors import PluszRequired
from ..forms import ActionForm
from ..i18n import problem_detail
from ..services.sessions import list_sessions, revoke, revoke_others
from ..services.trusted import list_trusted
from ..state import get_state, request_context
from ..store import Account, LoginSession, TrustedBrowser
from ..store.repository import MAX_ID
from .common import end_session
from .html import Page, html
from .html_security import _security_page

__all__ = ["login_sessions", "remembered_browsers", "this_session"]


def login_sessions() -> list[LoginSession]:
    """The live sessions of the page's account, newest first (the template calls this)."""
    if not current_account.is_authenticated:
        return []
    deps = get_state().deps
    return list_sessions(deps, current_account.id, deps.clock())


def remembered_browsers() -> list[TrustedBrowser]:
    """The browsers that skip the second factor at login, newest first."""
    if not current_account.is_authenticated:
        return []
    deps = get_state().deps
    return list_trusted(deps, current_account.id, deps.clock())


def this_session() -> int | None:
    """The id of the session the page is shown to."""
    return request_context().session_id


@html.context_processor
def _section() -> dict[str, object]:
    return {
        "login_sessions": login_sessions,
        "remembered_browsers": remembered_browsers,
        "this_session": this_session,
    }


def _account() -> Account | None:
    if not current_account.is_authenticated:
        return None
    account: Account = current_account._get_current_object()
    return account


def _to_login() -> Response:
    return redirect(url_for("kapu.login", next=url_for("kapu.security")))


def _refused(account: Account) -> Page | None:
    """The page with why the form was refused: an expired form (CSRF)."""
    if ActionForm().validate_on_submit():
        return None
    return _security_page(account, 400, sessions_message=problem_detail("csrf_failed"))


def _not_fresh(account: Account) -> Response | Page | None:
    """Where to go when the last step-up is not fresh: to ``/plusz`` and back here, or
    (an account without a second factor) the page saying to add one first."""
    error = refusal(plusz=True, max_age=get_state().config.fresh_plusz_max_age)
    if error is None:
        return None
    if isinstance(error, PluszRequired):
        return redirect(url_for("kapu.plusz", next=url_for("kapu.security")))
    return _security_page(account, error.status, sessions_message=problem_detail(error.problem))


def _ended(which: str) -> Response:
    return redirect(url_for("kapu.security", ended=which, _anchor="sessions"))


@html.post(f"/security/sessions/<int(min=1, max={MAX_ID}):session_id>/end")
def end_one_session(session_id: int) -> Response | Page:
    account = _account()
    if account is None:
        return _to_login()
    refused = _refused(account)
    if refused is not None:
        return refused
    ctx = request_context()
    if session_id == ctx.session_id:
        end_session()
        return redirect(url_for("kapu.login", logged_out=1))
    answer = _not_fresh(account)
    if answer is not None:
        return answer
    if not revoke(get_state().deps, ctx, account, session_id):
        return _security_page(account, 404, sessions_message=problem_detail("not_found"))
    return _ended("one")


@html.post("/security/sessions/end-others")
def end_other_sessions() -> Response | Page:
    account = _account()
    if account is None:
        return _to_login()
    answer = _refused(account) or _not_fresh(account)
    if answer is not None:
        return answer
    ctx = request_context()
    revoke_others(get_state().deps, ctx, account, ctx.session_id)
    return _ended("others")
