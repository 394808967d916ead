"""``KAPU_PLUSZ_REQUIRED_FROM``: after the sunset a password alone lets nobody in.

The test clock starts at 2026-03-02 09:00 UTC (10:00 in Budapest).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from flask_kapu import login_required, requires_plusz

JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}

PAST = {"KAPU_PLUSZ_REQUIRED_FROM": date(2026, 3, 2)}  # midnight in Budapest, 10 hours ago
FUTURE = {"KAPU_PLUSZ_REQUIRED_FROM": date(2026, 3, 3)}  # 2026-03-02 23:00 UTC
after_sunset = pytest.mark.parametrize("app_config", [PAST], indirect=True, ids=["after-sunset"])
before_sunset = pytest.mark.parametrize(
    "app_config", [FUTURE], indirect=True, ids=["before-sunset"]
)


@pytest.fixture
def views(app):
    @app.get("/inbox")
    @login_required
    def inbox():
        return "inbox"

    @app.get("/tax")
    @requires_plusz
    def tax():
        return "tax"

    return app


@pytest.fixture
def client(views):
    return views.test_client()


def log_in(api, who):
    """A password login through the JSON API; its session document."""
    response = api.post("/login", {"username": who.username, "password": who.password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def enrol_totp(api, who, clock):
    started = api.post("/factors/totp")
    assert started.status_code == 200, started.get_json()
    code = pyotp.TOTP(started.get_json()["secret"]).at(clock())
    confirmed = api.post("/factors/totp/confirm", {"password": who.password, "code": code})
    assert confirmed.status_code == 201, confirmed.get_json()
    return confirmed.get_json()["factor"]


def enrollment_required(response):
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "enrollment_required"
    return body


# --- logins of accounts with a factor --------------------------------------------------------


@after_sunset
@pytest.mark.parametrize(
    "methods", [("email",), ("totp",), ("email", "totp"), ("webauthn",)], ids="+".join
)
def test_after_the_sunset_every_login_with_a_factor_waits_for_it(api, kapu_account, methods):
    session = log_in(api, kapu_account(methods=methods))
    assert session["pending"] == "second_factor"
    assert session["authenticated"] is False
    assert session["level"] == "none"
    assert sorted(session["methods"]) == sorted(methods)


@before_sunset
def test_before_the_sunset_an_email_only_login_needs_only_the_password(api, kapu_account):
    session = log_in(api, kapu_account(methods=("email",)))
    assert session["pending"] is None
    assert session["level"] == "ugyfelkapu"


@before_sunset
def test_before_the_sunset_a_totp_login_still_waits_for_its_code(api, kapu_account):
    assert log_in(api, kapu_account(methods=("totp",)))["pending"] == "second_factor"


@after_sunset
def test_after_the_sunset_an_email_login_completes_with_the_emailed_code(
    api, client, kapu_account, kapu_outbox
):
    who = kapu_account(methods=("email",))
    log_in(api, who)
    assert api.post("/plusz/email").status_code == 202
    (mail,) = kapu_outbox.to(who.account.email)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    code = next(token for token in body.split() if token.isdigit() and len(token) == 6)
    verified = api.post("/plusz/email/verify", {"code": code})
    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json()["level"] == "plusz"
    assert client.get("/inbox", headers=JSON).status_code == 200


@after_sunset
def test_after_the_sunset_a_pending_login_opens_nothing(api, client, kapu_account):
    log_in(api, kapu_account(methods=("email",)))
    response = client.get("/inbox", headers=JSON)
    assert response.status_code == 401
    assert response.get_json()["pending"] == "second_factor"


# --- accounts without a factor ----------------------------------------------------------------


@after_sunset
def test_after_the_sunset_an_account_without_factors_logs_in_at_ugyfelkapu(api, kapu_account):
    session = log_in(api, kapu_account(methods=()))
    assert session["authenticated"] is True
    assert session["level"] == "ugyfelkapu"
    assert session["pending"] is None


@after_sunset
@pytest.mark.parametrize("path", ["/inbox", "/tax"])
def test_after_the_sunset_an_account_without_factors_must_enrol_for_every_protected_view(
    api, client, kapu_account, path
):
    log_in(api, kapu_account(methods=()))
    body = enrollment_required(client.get(path, headers=JSON))
    assert body["enroll_methods"] == ["totp", "email", "webauthn"]


@after_sunset
def test_after_the_sunset_a_browser_without_factors_is_sent_to_the_security_page(
    api, client, kapu_account
):
    log_in(api, kapu_account(methods=()))
    response = client.get("/inbox?folder=2026", headers=HTML)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/kapu/security"
    assert parse_qs(location.query)["next"] == ["/inbox?folder=2026"]


@after_sunset
def test_after_the_sunset_the_security_page_stays_open_to_an_account_without_factors(
    api, client, kapu_account
):
    log_in(api, kapu_account(methods=()))
    assert client.get("/kapu/security?next=/inbox", headers=HTML).status_code == 200


@after_sunset
def test_after_the_sunset_the_factor_api_stays_usable_for_an_account_without_factors(
    api, client, kapu_account
):
    log_in(api, kapu_account(methods=()))
    assert client.get("/kapu/api/factors").get_json() == {"factors": []}
    assert api.session()["level"] == "ugyfelkapu"
    started = api.post("/factors/totp")
    assert started.status_code == 200, started.get_json()
    assert started.get_json()["secret"]


@after_sunset
def test_after_the_sunset_enrolling_a_factor_opens_the_login_views(
    api, client, kapu_account, clock
):
    who = kapu_account(methods=())
    log_in(api, who)
    enrol_totp(api, who, clock)
    assert client.get("/inbox", headers=JSON).status_code == 200
    assert client.get("/tax", headers=JSON).status_code == 200


@after_sunset
def test_after_the_sunset_an_enrolled_account_logs_in_again_with_its_factor(
    api, client, kapu_account, clock
):
    who = kapu_account(methods=())
    log_in(api, who)
    factor = enrol_totp(api, who, clock)
    api.post("/logout")
    clock.advance(minutes=1)
    session = log_in(api, who)
    assert session["pending"] == "second_factor"
    assert factor["method"] in session["methods"]


@before_sunset
def test_before_the_sunset_an_account_without_factors_opens_login_views(api, client, kapu_account):
    log_in(api, kapu_account(methods=()))
    assert client.get("/inbox", headers=JSON).status_code == 200


# --- removing the last factor ------------------------------------------------------------------


@pytest.fixture
def plusz_with_one_factor(api, kapu_account, kapu_totp_code):
    """After the sunset: an account with a single TOTP factor, logged in with it."""
    who = kapu_account(methods=("totp",))
    log_in(api, who)
    verified = api.post("/plusz/totp/verify", {"code": kapu_totp_code(who)})
    assert verified.status_code == 200, verified.get_json()
    return who


def remove_only_factor(api, client):
    (factor,) = client.get("/kapu/api/factors").get_json()["factors"]
    response = client.delete(
        f"/kapu/api/factors/{factor['id']}", headers={"X-CSRFToken": api.session()["csrf_token"]}
    )
    assert response.status_code == 204, response.get_data(as_text=True)


@after_sunset
def test_after_the_sunset_removing_the_last_factor_means_enrolling_again(
    api, client, plusz_with_one_factor
):
    assert client.get("/inbox", headers=JSON).status_code == 200
    remove_only_factor(api, client)
    enrollment_required(client.get("/inbox", headers=JSON))


@after_sunset
def test_after_the_sunset_the_next_login_without_factors_must_enrol_again(
    api, client, plusz_with_one_factor
):
    remove_only_factor(api, client)
    api.post("/logout")
    session = log_in(api, plusz_with_one_factor)
    assert session["pending"] is None
    assert session["level"] == "ugyfelkapu"
    enrollment_required(client.get("/inbox", headers=JSON))


# --- when the sunset is -----------------------------------------------------------------------


@before_sunset
def test_a_future_sunset_changes_nothing(api, client, kapu_account):
    who = kapu_account(methods=("email",))
    session = log_in(api, who)
    assert session["level"] == "ugyfelkapu"
    assert client.get("/inbox", headers=JSON).status_code == 200
    response = client.get("/tax", headers=JSON)
    assert response.status_code == 401
    assert response.get_json()["code"] == "plusz_required"


def test_without_a_sunset_an_email_only_login_needs_only_the_password(api, kapu_account):
    assert log_in(api, kapu_account(methods=("email",)))["level"] == "ugyfelkapu"


@before_sunset
def test_a_sunset_date_begins_at_midnight_in_budapest_not_in_utc(api, clock, kapu_account):
    who = kapu_account(methods=("email",))
    clock.now = datetime(2026, 3, 2, 22, 59, 59, tzinfo=timezone.utc)  # 23:59:59 in Budapest
    assert log_in(api, who)["pending"] is None
    api.post("/logout")
    clock.now = datetime(2026, 3, 2, 23, 0, tzinfo=timezone.utc)  # midnight in Budapest
    assert log_in(api, who)["pending"] == "second_factor"


@pytest.mark.parametrize(
    "app_config", [{**FUTURE, "KAPU_TIMEZONE": "UTC"}], indirect=True, ids=["utc"]
)
def test_a_sunset_date_begins_at_midnight_in_kapu_timezone(api, clock, kapu_account):
    who = kapu_account(methods=("email",))
    clock.now = datetime(2026, 3, 2, 23, 59, tzinfo=timezone.utc)
    assert log_in(api, who)["pending"] is None
    api.post("/logout")
    clock.now = datetime(2026, 3, 3, 0, 0, tzinfo=timezone.utc)
    assert log_in(api, who)["pending"] == "second_factor"


@pytest.mark.parametrize(
    "app_config",
    [{"KAPU_PLUSZ_REQUIRED_FROM": datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)}],
    indirect=True,
    ids=["aware-datetime"],
)
def test_an_aware_datetime_sunset_begins_at_that_instant(api, client, clock, kapu_account, views):
    who = kapu_account(methods=())
    log_in(api, who)
    clock.advance(minutes=29)
    assert client.get("/inbox", headers=JSON).status_code == 200
    clock.advance(minutes=1)
    enrollment_required(client.get("/inbox", headers=JSON))


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "KAPU_PLUSZ_REQUIRED_FROM": datetime(
                2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1))
            )
        }
    ],
    indirect=True,
    ids=["offset-datetime"],
)
def test_a_datetime_sunset_is_compared_as_an_instant_whatever_its_zone(api, kapu_account):
    # 10:00 at UTC+1 is 09:00 UTC, the clock's very start: the sunset has begun.
    assert log_in(api, kapu_account(methods=("email",)))["pending"] == "second_factor"
