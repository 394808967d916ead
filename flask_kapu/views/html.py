"""The HTML pages: Flask-WTF forms in, a service call, a page or a redirect out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.exc import DBAPIError
from werkzeug.wrappers import Response

from .. import services
from ..auth import sign_in
from ..errors import KapuHTTPError
from ..forms import (
    ActionForm,
    CodeForm,
    EidCheckForm,
    EidRegisterForm,
    ForgotForm,
    LoginForm,
    RegisterForm,
)
from ..i18n import config_texts, field_message, problem_detail, template_helpers
from ..mail import OutboxMailer
from ..responses import safe_next
from ..state import get_state
from .common import (
    check_eid,
    end_session,
    home_url,
    language,
    limit_body,
    offers,
    rate_limit,
    register_here,
    remember_device,
    reset_later,
    secret_context,
    security_headers,
    unavailable,
)

__all__ = ["error_page", "html", "refused"]

_PACKAGE = Path(__file__).resolve().parent.parent
html = Blueprint(
    "kapu",
    __name__,
    template_folder=str(_PACKAGE / "templates"),
    static_folder=str(_PACKAGE / "static"),
    static_url_path="/static",
)

Page = tuple[str, int, dict[str, str]]


html.after_request(security_headers)


@html.before_request
def _limit_body() -> None:
    limit_body()


def page(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Page:
    """Render a flask_kapu page with its translations and the help text."""
    state = get_state()
    text = render_template(
        template,
        **template_helpers(),
        help_text=state.config.help_text,
        eid_enabled=offers("eid"),
        self_service_enabled=offers("self_service"),
        kapu_lang=language(),
        **config_texts(state.config),
        **context,
    )
    return text, status, headers or {}


def error_page(error: KapuHTTPError) -> Page:
    return page(
        "kapu/error.html",
        error.status,
        error.headers(),
        error=error,
        detail=problem_detail(error.problem),
    )


@html.errorhandler(KapuHTTPError)
def _kapu_error(error: KapuHTTPError) -> Page:
    return error_page(error)


@html.errorhandler(DBAPIError)
def _database_error(error: DBAPIError) -> Page:
    return error_page(unavailable(error))


def show_errors(form: FlaskForm, error: KapuHTTPError) -> str:
    """Attach an error's field problems to the form; the page-level message."""
    config = get_state().config
    for name, codes in error.errors.items():
        field = getattr(form, name.removeprefix("person."), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [
                *field.errors,
                *(
                    field_message(
                        c,
                        min_length=config.password_min_length,
                        max_length=config.password_max_length,
                    )
                    for c in codes
                ),
            ]
    return problem_detail(error.detail_key or error.problem)


def handle(
    form: FlaskForm, template: str, action: Callable[[], Response | Page], **context: Any
) -> Response | Page:
    """GET shows the form; a valid POST runs ``action``; its errors come back on the form."""
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                return action()
            except KapuHTTPError as error:
                message = show_errors(form, error)
                return page(
                    template, error.status, error.headers(), form=form, message=message, **context
                )
        status, message = refused(form)
        return page(template, status, form=form, message=message, **context)
    return page(template, form=form, **context)


def refused(form: FlaskForm) -> tuple[int, str]:
    """Status and message for a form that did not validate: 400 for a bad CSRF token, else 422."""
    if getattr(form, "csrf_token", None) is not None and form.csrf_token.errors:
        return 400, problem_detail("csrf_failed")
    return 422, problem_detail("invalid_input")


def next_url() -> str:
    return safe_next(request.args.get("next"), home_url())


def signed_in(result: services.SignedIn) -> Response:
    """After a proven password: on to ``next``, or first to the second factor."""
    sign_in(result)
    if result.account.must_choose_username:
        return redirect(url_for("kapu.choose_username", next=next_url()))
    if result.second_factor:
        return redirect(url_for("kapu.plusz", next=next_url()))
    return redirect(next_url())


@html.route("/login", methods=["GET", "POST"])
def login() -> Response | Page:
    form = LoginForm()

    def action() -> Response:
        rate_limit("secrets", "login")
        result = services.login(
            get_state().deps,
            secret_context(),
            username=form.username.data,
            password=form.password.data,
        )
        return signed_in(result)  # a completed login marks the browser known (views.history)

    return handle(form, "kapu/login.html", action)


@html.route("/logout", methods=["GET", "POST"])
def logout() -> Response | Page:
    form = ActionForm()

    def action() -> Response:
        end_session()
        return redirect(url_for("kapu.login", logged_out=1))

    return handle(form, "kapu/logout.html", action)


@html.route("/register", methods=["GET", "POST"])
def register() -> Response | Page:
    if not offers("self_service"):
        abort(404)
    form = RegisterForm()

    def action() -> Page:
        state = get_state()
        person = services.validate_person(
            {
                "family_name": form.family_name.data,
                "given_name": form.given_name.data,
                "birth_date": form.birth_date.data.isoformat() if form.birth_date.data else None,
            },
            required=("family_name", "given_name", "birth_date"),
            today=state.deps.clock().date(),
        )
        result = register_here(
            username=form.username.data, email=form.email.data, person=person, via="self"
        )
        return page("kapu/registered.html", 201, result=result)

    return handle(form, "kapu/register.html", action)


@html.route("/register/eid", methods=["GET", "POST"])
def register_eid() -> Response | Page:
    if not offers("eid"):
        abort(404)
    state = get_state()
    if request.method == "POST" and "token" in request.form:
        form = EidRegisterForm()
        person = state.eid_tokens.person(form.token.data or "")

        def register_action() -> Page:
            result = register_here(
                username=form.username.data, email=form.email.data, person=person, via="eid"
            )
            return page("kapu/registered.html", 201, result=result)

        return handle(form, "kapu/register_eid.html", register_action, person=person)

    check = EidCheckForm()

    def check_action() -> Page:
        person, token = check_eid(check.document_id.data, check.registration_code.data)
        form = EidRegisterForm(formdata=None, token=token)
        return page("kapu/register_eid.html", form=form, person=person)

    return handle(check, "kapu/register_eid_check.html", check_action)


def _code_page(template: str) -> Response | Page:
    form = CodeForm()
    if request.method == "GET" and request.args.get("username"):
        form.username.data = request.args["username"][:256]

    def action() -> Response:
        rate_limit("secrets", "code")
        result = services.use_password_code(
            get_state().deps,
            secret_context(),
            username=form.username.data,
            code=form.code.data,
            new_password=form.new_password.data,
        )
        return remember_device(signed_in(result), result.account)

    return handle(form, template, action)


@html.route("/activate", methods=["GET", "POST"])
def activate() -> Response | Page:
    return _code_page("kapu/activate.html")


@html.route("/password/reset", methods=["GET", "POST"])
def password_reset() -> Response | Page:
    return _code_page("kapu/password_reset.html")


@html.route("/password/forgot", methods=["GET", "POST"])
def password_forgot() -> Response | Page:
    form = ForgotForm()

    def action() -> Page:
        reset_later(username=form.username.data, email=form.email.data)
        return page("kapu/forgot_sent.html", 202)

    return handle(form, "kapu/forgot.html", action)


@html.get("/outbox")
def outbox() -> Page:
    """Development only: the mails the in-memory outbox holds."""
    mailer = get_state().mailer
    if not current_app.debug or not isinstance(mailer, OutboxMailer):
        abort(404)
    messages = list(reversed(mailer.messages))
    return page("kapu/outbox.html", messages=messages)
