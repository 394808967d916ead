"""The view decorators: who may open a protected view, and how the others are refused.

Protected views are added to the host app here; sessions are made with the
test plugin's ``kapu_account`` / ``kapu_login`` (no HTTP), except pending
logins, which only a real password login can make.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import empty_tables, make_app
from flask import jsonify

from flask_kapu import login_required, requires_level, requires_plusz
from flask_kapu.errors import EnrollmentRequired, PluszRequired
from flask_kapu.state import get_state
from flask_kapu.store import AccountStatus

JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PROBLEM_JSON = "application/problem+json"
CHALLENGE = 'Kapu error="insufficient_user_authentication", acr_values="plusz"'

#: path -> what the view needs (documentation of the fixture below)
VIEWS = {
    "/tax": "@requires_plusz",
    "/fresh": "@requires_plusz(max_age=5 minutes)",
    "/strong": '@requires_plusz(methods={"totp", "webauthn"})',
    "/named": '@requires_level("plusz")',
    "/basic": "@login_required",
    "/member": '@requires_level("ugyfelkapu")',
}
PLUSZ_VIEWS = ["/tax", "/named"]
LOGIN_VIEWS = ["/basic", "/member"]


@pytest.fixture
def views(app):
    """The host's protected views, each answering its own path."""

    @app.route("/tax", methods=["GET", "POST"])
    @requires_plusz
    def tax():
        return "tax"

    @app.get("/fresh")
    @requires_plusz(max_age=timedelta(minutes=5))
    def fresh():
        return "fresh"

    @app.get("/strong")
    @requires_plusz(methods={"totp", "webauthn"})
    def strong():
        return "strong"

    @app.get("/named")
    @requires_level("plusz")
    def named():
        return "named"

    @app.get("/basic")
    @login_required
    def basic():
        return "basic"

    @app.get("/member")
    @requires_level("ugyfelkapu")
    def member():
        return "member"

    return app


@pytest.fixture
def client(views):
    return views.test_client()


# --- helpers ------------------------------------------------------------------------------


def redirect_of(response):
    """(path, next) of a 302 answer."""
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    found = parse_qs(location.query).get("next", [])
    return location.path, (found[0] if found else None)


def problem(response, status, code):
    """The problem document of ``response``, checked for ``status`` and ``code``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert body["status"] == status
    assert body["code"] == code
    return body


def step_up_ago(kapu_login, client, account, clock, *, minutes, methods=("totp",)):
    """A session that stepped up ``minutes`` ago (and logged in then)."""
    kapu_login(
        client, account, level="plusz", methods=methods, at=clock() - timedelta(minutes=minutes)
    )


def give_recovery_codes(api, client, account, kapu_login):
    """Give ``account`` a set of recovery codes through the API, then log it out of plusz."""
    kapu_login(client, account, level="plusz")
    api.csrf = None
    response = api.post("/factors/recovery-codes")
    assert response.status_code == 201, response.get_json()
    kapu_login(client, account)
    api.csrf = None


# --- anonymous ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(VIEWS))
def test_an_anonymous_browser_is_sent_to_the_login_page_with_next(client, path):
    assert redirect_of(client.get(path, headers=HTML)) == ("/kapu/login", path)


def test_a_request_without_accept_header_is_treated_as_a_browser(client):
    assert redirect_of(client.get("/tax")) == ("/kapu/login", "/tax")


@pytest.mark.parametrize("path", list(VIEWS))
def test_an_anonymous_json_client_gets_401_login_required(client, path):
    body = problem(client.get(path, headers=JSON), 401, "login_required")
    assert body["pending"] is None


def test_a_json_body_makes_a_request_a_json_one_even_without_accept(client):
    response = client.post("/tax", json={"year": 2025})
    problem(response, 401, "login_required")


def test_login_required_carries_no_step_up_challenge(client):
    response = client.get("/tax", headers=JSON)
    assert "WWW-Authenticate" not in response.headers


def test_next_is_the_full_path_with_its_query_string(client):
    response = client.get("/tax?year=2025&form=SZJA", headers=HTML)
    assert redirect_of(response) == ("/kapu/login", "/tax?year=2025&form=SZJA")


def test_a_session_of_a_disabled_account_is_no_login(client, kapu_account, kapu_login, views):
    who = kapu_account()
    kapu_login(client, who)
    with views.app_context(), get_state().deps.store.transaction() as repo:
        repo.account(who.account.id).status = AccountStatus.DISABLED.value
    problem(client.get("/basic", headers=JSON), 401, "login_required")


def test_a_session_from_before_the_accounts_epoch_moved_on_is_no_login(
    client, kapu_account, kapu_login, views
):
    who = kapu_account()
    kapu_login(client, who, level="plusz")
    with views.app_context(), get_state().deps.store.transaction() as repo:
        repo.bump_session_epoch(repo.account(who.account.id))
    problem(client.get("/tax", headers=JSON), 401, "login_required")


# --- @login_required and @requires_level("ugyfelkapu") ------------------------------------


@pytest.mark.parametrize("path", LOGIN_VIEWS)
def test_a_password_login_opens_a_login_view(client, kapu_account, kapu_login, path):
    kapu_login(client, kapu_account())
    response = client.get(path, headers=JSON)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == path.strip("/")


@pytest.mark.parametrize("path", LOGIN_VIEWS)
def test_an_account_without_factors_opens_a_login_view_before_any_sunset(
    client, kapu_account, kapu_login, path
):
    kapu_login(client, kapu_account(methods=()))
    assert client.get(path, headers=HTML).status_code == 200


@pytest.mark.parametrize("path", LOGIN_VIEWS)
def test_a_plusz_session_opens_a_login_view(client, kapu_account, kapu_login, path):
    kapu_login(client, kapu_account(), level="plusz")
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", LOGIN_VIEWS)
def test_a_login_view_ignores_how_old_the_login_is(client, kapu_account, kapu_login, clock, path):
    kapu_login(client, kapu_account())
    for _ in range(30):  # ten hours of a session in use: never idle, within its lifetime
        clock.advance(minutes=20)
        assert client.get(path).status_code == 200


# --- @requires_plusz: step-up -------------------------------------------------------------


@pytest.mark.parametrize("path", PLUSZ_VIEWS)
def test_a_password_login_is_sent_to_step_up_by_a_plusz_view(
    client, kapu_account, kapu_login, path
):
    kapu_login(client, kapu_account())
    assert redirect_of(client.get(path, headers=HTML)) == ("/kapu/plusz", path)


def test_the_step_up_redirect_keeps_the_query_string_in_next(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account())
    response = client.get("/tax?year=2025", headers=HTML)
    assert redirect_of(response) == ("/kapu/plusz", "/tax?year=2025")


@pytest.mark.parametrize("path", PLUSZ_VIEWS)
def test_a_json_client_gets_401_plusz_required_with_an_rfc9470_challenge(
    client, kapu_account, kapu_login, path
):
    kapu_login(client, kapu_account())
    response = client.get(path, headers=JSON)
    body = problem(response, 401, "plusz_required")
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert body["methods"] == ["totp"]
    assert "max_age" not in body


@pytest.mark.parametrize("path", [*PLUSZ_VIEWS, "/fresh", "/strong"])
def test_a_plusz_session_opens_a_plusz_view(client, kapu_account, kapu_login, path):
    kapu_login(client, kapu_account(), level="plusz")
    response = client.get(path, headers=JSON)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == path.strip("/")


def test_plusz_required_lists_every_method_the_account_has(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(methods=("totp", "email", "webauthn")))
    body = problem(client.get("/tax", headers=JSON), 401, "plusz_required")
    assert sorted(body["methods"]) == ["email", "totp", "webauthn"]


def test_plusz_required_lists_only_methods_the_account_has(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(methods=("email",)))
    body = problem(client.get("/tax", headers=JSON), 401, "plusz_required")
    assert body["methods"] == ["email"]


def test_recovery_is_offered_when_the_account_has_unused_recovery_codes(
    client, api, kapu_account, kapu_login
):
    who = kapu_account(methods=("totp", "email"))
    give_recovery_codes(api, client, who, kapu_login)
    body = problem(client.get("/tax", headers=JSON), 401, "plusz_required")
    assert sorted(body["methods"]) == ["email", "recovery", "totp"]


def test_recovery_is_not_offered_without_recovery_codes(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(methods=("totp", "email")))
    body = problem(client.get("/tax", headers=JSON), 401, "plusz_required")
    assert "recovery" not in body["methods"]


def test_recovery_is_not_offered_by_a_view_that_names_its_methods(
    client, api, kapu_account, kapu_login
):
    who = kapu_account(methods=("totp", "email"))
    give_recovery_codes(api, client, who, kapu_login)
    body = problem(client.get("/strong", headers=JSON), 401, "plusz_required")
    assert body["methods"] == ["totp"]


# --- max_age ------------------------------------------------------------------------------


def test_a_step_up_older_than_max_age_is_refused(client, kapu_account, kapu_login, clock):
    step_up_ago(kapu_login, client, kapu_account(), clock, minutes=6)
    response = client.get("/fresh", headers=JSON)
    body = problem(response, 401, "plusz_required")
    assert response.headers["WWW-Authenticate"] == f"{CHALLENGE}, max_age=300"
    assert body["max_age"] == 300
    assert body["methods"] == ["totp"]


def test_a_stale_step_up_is_sent_to_step_up_again_in_html(client, kapu_account, kapu_login, clock):
    step_up_ago(kapu_login, client, kapu_account(), clock, minutes=6)
    assert redirect_of(client.get("/fresh", headers=HTML)) == ("/kapu/plusz", "/fresh")


def test_a_step_up_older_than_max_age_still_opens_a_view_without_max_age(
    client, kapu_account, kapu_login, clock
):
    step_up_ago(kapu_login, client, kapu_account(), clock, minutes=6)
    assert client.get("/tax", headers=JSON).status_code == 200


def test_a_step_up_exactly_max_age_old_is_still_fresh(client, kapu_account, kapu_login, clock):
    step_up_ago(kapu_login, client, kapu_account(), clock, minutes=5)
    assert client.get("/fresh", headers=JSON).status_code == 200


def test_max_age_counts_from_the_step_up_not_from_the_password(
    client, api, kapu_account, kapu_totp_code, clock
):
    who = kapu_account()
    login = api.post("/login", {"username": who.username, "password": who.password})
    assert login.get_json()["pending"] == "second_factor"
    clock.advance(minutes=8)
    verified = api.post("/plusz/totp/verify", {"code": kapu_totp_code(who)})
    assert verified.status_code == 200, verified.get_json()
    clock.advance(minutes=4)
    assert client.get("/fresh", headers=JSON).status_code == 200


@pytest.mark.parametrize(
    "app_config",
    [{"KAPU_PLUSZ_MAX_AGE": timedelta(minutes=10)}, {"KAPU_PLUSZ_MAX_AGE": 600}],
    indirect=True,
    ids=["timedelta", "seconds"],
)
def test_kapu_plusz_max_age_is_the_default_max_age(client, kapu_account, kapu_login, clock):
    step_up_ago(kapu_login, client, kapu_account(), clock, minutes=11)
    response = client.get("/tax", headers=JSON)
    body = problem(response, 401, "plusz_required")
    assert response.headers["WWW-Authenticate"] == f"{CHALLENGE}, max_age=600"
    assert body["max_age"] == 600


@pytest.mark.parametrize(
    "app_config", [{"KAPU_PLUSZ_MAX_AGE": timedelta(minutes=10)}], indirect=True
)
def test_kapu_plusz_max_age_lets_in_a_step_up_within_it(client, kapu_account, kapu_login, clock):
    step_up_ago(kapu_login, client, kapu_account(), clock, minutes=9)
    assert client.get("/tax", headers=JSON).status_code == 200


@pytest.mark.parametrize(
    "app_config", [{"KAPU_PLUSZ_MAX_AGE": timedelta(minutes=10)}], indirect=True
)
def test_an_explicit_max_age_overrides_kapu_plusz_max_age(client, kapu_account, kapu_login, clock):
    step_up_ago(kapu_login, client, kapu_account(), clock, minutes=6)
    response = client.get("/fresh", headers=JSON)
    assert problem(response, 401, "plusz_required")["max_age"] == 300
    assert response.headers["WWW-Authenticate"] == f"{CHALLENGE}, max_age=300"


@pytest.mark.parametrize(
    "app_config", [{"KAPU_PLUSZ_MAX_AGE": timedelta(minutes=10)}], indirect=True
)
def test_kapu_plusz_max_age_does_not_apply_to_login_views(client, kapu_account, kapu_login, clock):
    step_up_ago(kapu_login, client, kapu_account(), clock, minutes=60)
    assert client.get("/basic", headers=JSON).status_code == 200


# --- methods= -----------------------------------------------------------------------------


def test_a_step_up_with_another_method_is_refused_when_the_account_has_an_accepted_one(
    client, kapu_account, kapu_login
):
    kapu_login(client, kapu_account(methods=("totp", "email")), level="plusz", methods=("email",))
    response = client.get("/strong", headers=JSON)
    body = problem(response, 401, "plusz_required")
    assert body["methods"] == ["totp"]
    assert response.headers["WWW-Authenticate"] == CHALLENGE


def test_a_browser_with_the_wrong_method_is_sent_to_step_up(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(methods=("totp", "email")), level="plusz", methods=("email",))
    assert redirect_of(client.get("/strong", headers=HTML)) == ("/kapu/plusz", "/strong")


def test_plusz_required_lists_each_accepted_method_the_account_has(
    client, kapu_account, kapu_login
):
    kapu_login(client, kapu_account(methods=("totp", "email", "webauthn")))
    body = problem(client.get("/strong", headers=JSON), 401, "plusz_required")
    assert sorted(body["methods"]) == ["totp", "webauthn"]


def test_a_step_up_with_an_accepted_method_opens_the_view(client, kapu_account, kapu_login):
    who = kapu_account(methods=("email", "webauthn"))
    kapu_login(client, who, level="plusz", methods=("webauthn",))
    assert client.get("/strong", headers=JSON).status_code == 200


def test_an_account_without_an_accepted_method_must_enrol_one(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(methods=("email",)), level="plusz", methods=("email",))
    response = client.get("/strong", headers=JSON)
    body = problem(response, 403, "enrollment_required")
    assert body["enroll_methods"] == ["totp", "webauthn"]
    assert "WWW-Authenticate" not in response.headers


def test_a_browser_without_an_accepted_method_is_sent_to_enrol(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(methods=("email",)), level="plusz", methods=("email",))
    assert redirect_of(client.get("/strong", headers=HTML)) == ("/kapu/security", "/strong")


@pytest.mark.parametrize("app_config", [{"KAPU_SECOND_FACTORS": ("totp", "email")}], indirect=True)
def test_enroll_methods_are_only_those_the_app_offers(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(methods=("email",)))
    body = problem(client.get("/strong", headers=JSON), 403, "enrollment_required")
    assert body["enroll_methods"] == ["totp"]


def test_recovery_codes_alone_do_not_spare_enrolment(client, api, kapu_account, kapu_login):
    who = kapu_account(methods=("email",))
    give_recovery_codes(api, client, who, kapu_login)
    kapu_login(client, who, level="plusz", methods=("recovery",))
    body = problem(client.get("/strong", headers=JSON), 403, "enrollment_required")
    assert body["enroll_methods"] == ["totp", "webauthn"]


def test_a_recovery_step_up_opens_a_view_without_methods(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(), level="plusz", methods=("recovery",))
    assert client.get("/tax", headers=JSON).status_code == 200


# --- accounts without a second factor --------------------------------------------------------


@pytest.mark.parametrize("path", PLUSZ_VIEWS)
def test_an_account_without_factors_gets_403_enrollment_required(
    client, kapu_account, kapu_login, path
):
    kapu_login(client, kapu_account(methods=()))
    response = client.get(path, headers=JSON)
    body = problem(response, 403, "enrollment_required")
    assert body["enroll_methods"] == ["totp", "email", "webauthn"]
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize("path", PLUSZ_VIEWS)
def test_a_browser_without_factors_is_sent_to_the_security_page_with_next(
    client, kapu_account, kapu_login, path
):
    kapu_login(client, kapu_account(methods=()))
    assert redirect_of(client.get(f"{path}?a=1", headers=HTML)) == ("/kapu/security", f"{path}?a=1")


def test_a_step_up_with_a_since_removed_last_factor_no_longer_counts(
    client, api, kapu_account, kapu_login
):
    kapu_login(client, kapu_account(methods=("totp",)), level="plusz")
    (factor,) = client.get("/kapu/api/factors").get_json()["factors"]
    headers = {"X-CSRFToken": api.session()["csrf_token"]}
    assert client.delete(f"/kapu/api/factors/{factor['id']}", headers=headers).status_code == 204
    body = problem(client.get("/tax", headers=JSON), 403, "enrollment_required")
    assert body["enroll_methods"] == ["totp", "email", "webauthn"]


# --- pending login ----------------------------------------------------------------------------


@pytest.fixture
def pending(api, kapu_account):
    """A client whose password login waits for its TOTP code."""
    who = kapu_account()
    response = api.post("/login", {"username": who.username, "password": who.password})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["pending"] == "second_factor"
    return who


@pytest.mark.parametrize("path", list(VIEWS))
def test_a_pending_login_gets_401_login_required_with_pending(client, pending, path):
    response = client.get(path, headers=JSON)
    body = problem(response, 401, "login_required")
    assert body["pending"] == "second_factor"
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize("path", list(VIEWS))
def test_a_pending_browser_is_sent_to_the_step_up_page(client, pending, path):
    assert redirect_of(client.get(f"{path}?x=1", headers=HTML)) == ("/kapu/plusz", f"{path}?x=1")


def test_completing_a_pending_login_opens_the_plusz_views(client, api, pending, kapu_totp_code):
    assert api.post("/plusz/totp/verify", {"code": kapu_totp_code(pending)}).status_code == 200
    assert client.get("/tax", headers=JSON).status_code == 200
    assert client.get("/strong", headers=JSON).status_code == 200


# --- decorator arguments ----------------------------------------------------------------------


@pytest.mark.parametrize("level", ["none", "bogus", ""])
def test_requires_level_refuses_a_level_that_is_not_a_login(level):
    with pytest.raises(ValueError, match="level"):
        requires_level(level)


@pytest.mark.parametrize("methods", [set(), frozenset(), [], "totp"], ids=repr)
def test_requires_plusz_refuses_methods_that_are_not_a_non_empty_set_of_names(methods):
    with pytest.raises(ValueError, match="methods"):
        requires_plusz(methods=methods)


def test_requires_plusz_takes_any_iterable_of_method_names():
    def view():
        return "ok"

    assert callable(requires_plusz(methods=["totp"])(view))
    assert callable(requires_plusz(methods=("totp", "email"))(view))


def test_the_decorators_keep_the_views_name_and_docstring():
    def tax_return():
        """Fill in the tax return."""

    for decorated in (
        login_required(tax_return),
        requires_plusz(tax_return),
        requires_plusz(max_age=timedelta(minutes=1))(tax_return),
        requires_level("plusz")(tax_return),
        requires_level("ugyfelkapu")(tax_return),
    ):
        assert decorated.__name__ == "tax_return"
        assert decorated.__doc__ == "Fill in the tax return."


# --- custom handlers ---------------------------------------------------------------------------


class TestCustomHandlers:
    """Handlers a host registers on its ``Kapu`` replace the default answers."""

    @pytest.fixture
    def hosted(self, database_url, smtp_server, clock):
        app, kapu = make_app(database_url, smtp_server[1])
        kapu.clock = clock
        state = app.extensions["kapu"]
        empty_tables(state)
        state.limiter.reset()
        seen = []

        @kapu.unauthorized_handler
        def unauthorized():
            seen.append(("unauthorized", None))
            return jsonify(handler="unauthorized"), 418

        @kapu.plusz_required_handler
        def plusz_required(error):
            seen.append(("plusz_required", error))
            return jsonify(handler="plusz", methods=error.methods, max_age=error.max_age), 418

        @kapu.enrollment_required_handler
        def enrollment_required(error):
            seen.append(("enrollment_required", error))
            return jsonify(handler="enrol", enroll_methods=error.enroll_methods), 418

        app.seen = seen
        yield app, kapu
        state.notifier.wait()
        state.deps.store.dispose()

    @pytest.fixture
    def app(self, hosted):
        return hosted[0]

    def test_the_unauthorized_handler_answers_an_anonymous_request(self, client, app):
        response = client.get("/basic", headers=HTML)
        assert (response.status_code, response.get_json()) == (418, {"handler": "unauthorized"})
        assert app.seen == [("unauthorized", None)]

    def test_the_unauthorized_handler_answers_a_pending_login(self, client, api, kapu_account):
        who = kapu_account()
        api.post("/login", {"username": who.username, "password": who.password})
        response = client.get("/tax", headers=JSON)
        assert (response.status_code, response.get_json()) == (418, {"handler": "unauthorized"})

    def test_the_plusz_handler_gets_the_error_with_methods_and_max_age(
        self, client, app, kapu_account, kapu_login, clock
    ):
        step_up_ago(kapu_login, client, kapu_account(methods=("totp", "email")), clock, minutes=6)
        response = client.get("/fresh", headers=HTML)
        assert response.status_code == 418
        assert response.get_json() == {
            "handler": "plusz",
            "methods": ["email", "totp"],
            "max_age": 300,
        }
        ((name, error),) = app.seen
        assert name == "plusz_required"
        assert isinstance(error, PluszRequired)
        assert error.headers()["WWW-Authenticate"] == f"{CHALLENGE}, max_age=300"

    def test_the_plusz_handler_gets_only_the_views_methods(self, client, kapu_account, kapu_login):
        who = kapu_account(methods=("totp", "email"))
        kapu_login(client, who, level="plusz", methods=("email",))
        response = client.get("/strong", headers=JSON)
        assert response.get_json() == {"handler": "plusz", "methods": ["totp"], "max_age": None}

    def test_the_enrollment_handler_gets_the_error_with_enroll_methods(
        self, client, app, kapu_account, kapu_login
    ):
        kapu_login(client, kapu_account(methods=("email",)))
        response = client.get("/strong", headers=HTML)
        assert response.status_code == 418
        assert response.get_json() == {"handler": "enrol", "enroll_methods": ["totp", "webauthn"]}
        ((name, error),) = app.seen
        assert name == "enrollment_required"
        assert isinstance(error, EnrollmentRequired)

    def test_the_handlers_do_not_touch_views_the_session_may_open(
        self, client, app, kapu_account, kapu_login
    ):
        kapu_login(client, kapu_account(), level="plusz")
        assert client.get("/tax").status_code == 200
        assert client.get("/basic").status_code == 200
        assert app.seen == []


# --- protected pages are not cached ------------------------------------------------------------


@pytest.fixture
def cached_views(views):
    """Protected views that choose their own caching, and an unprotected one."""

    @views.get("/own-cache")
    @login_required
    def own_cache():
        return "own", {"Cache-Control": "private, max-age=60"}

    @views.get("/public")
    def public():
        return "public"

    return views


@pytest.mark.parametrize("path", [*PLUSZ_VIEWS, *LOGIN_VIEWS])
def test_a_protected_view_is_sent_with_no_store(client, kapu_account, kapu_login, path):
    kapu_login(client, kapu_account(), level="plusz")

    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("headers", [HTML, JSON])
@pytest.mark.parametrize("path", ["/tax", "/basic"])
def test_a_refusal_is_sent_with_no_store(client, path, headers):
    response = client.get(path, headers=headers)

    assert response.status_code in (302, 401)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_protected_view_keeps_the_cache_control_it_set_itself(
    cached_views, kapu_account, kapu_login
):
    client = cached_views.test_client()
    kapu_login(client, kapu_account())

    assert client.get("/own-cache").headers["Cache-Control"] == "private, max-age=60"
    assert "Cache-Control" not in client.get("/public").headers


@pytest.mark.parametrize("app_config", [{"KAPU_NO_STORE_PROTECTED_VIEWS": False}], indirect=True)
def test_no_store_on_protected_views_can_be_switched_off(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(), level="plusz")

    assert "Cache-Control" not in client.get("/tax").headers
    assert "Cache-Control" not in client.get("/basic", headers=JSON).headers


# --- async views and OPTIONS, as Flask-Login's own decorator ---------------------------------


@pytest.fixture
def host_views(views):
    """``async def`` views behind each decorator, and views that answer OPTIONS themselves."""

    @views.get("/async/basic")
    @login_required
    async def async_basic():
        return "async basic"

    @views.get("/async/tax")
    @requires_plusz
    async def async_tax():
        return "async tax"

    @views.get("/async/member")
    @requires_level("ugyfelkapu")
    async def async_member():
        return "async member"

    @views.route("/cors/basic", methods=["GET", "OPTIONS"])
    @login_required
    def cors_basic():
        return "preflight answered by the view", 200, {"Allow": "GET, OPTIONS"}

    @views.route("/cors/tax", methods=["GET", "OPTIONS"])
    @requires_plusz(methods={"totp"})
    def cors_tax():
        return "preflight answered by the view", 200, {"Allow": "GET, OPTIONS"}

    return views.test_client()


@pytest.mark.parametrize("path", ["/async/basic", "/async/member"])
def test_an_async_login_view_runs_for_a_login(host_views, kapu_account, kapu_login, path):
    kapu_login(host_views, kapu_account())

    response = host_views.get(path)

    assert response.status_code == 200
    assert response.get_data(as_text=True) == f"async {path.rsplit('/', 1)[1]}"
    assert response.headers["Cache-Control"] == "no-store"


def test_an_async_plusz_view_runs_for_a_plusz_session(host_views, kapu_account, kapu_login):
    kapu_login(host_views, kapu_account(), level="plusz")

    assert host_views.get("/async/tax").get_data(as_text=True) == "async tax"


def test_an_async_plusz_view_refuses_a_password_login(host_views, kapu_account, kapu_login):
    kapu_login(host_views, kapu_account())

    problem(host_views.get("/async/tax", headers=JSON), 401, "plusz_required")


def test_an_async_view_refuses_an_anonymous_browser(host_views):
    assert redirect_of(host_views.get("/async/basic")) == ("/kapu/login", "/async/basic")


@pytest.mark.parametrize("path", ["/cors/basic", "/cors/tax"])
def test_options_reaches_a_view_that_answers_it_without_a_login(host_views, path):
    response = host_views.options(path)

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "preflight answered by the view"


@pytest.mark.parametrize("path", ["/cors/basic", "/cors/tax"])
def test_get_on_a_view_that_answers_options_still_needs_the_login(host_views, path):
    problem(host_views.get(path, headers=JSON), 401, "login_required")
