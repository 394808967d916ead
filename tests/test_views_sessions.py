"""Sessions and devices: the citizen sees where they are logged in and ends a session.

Two browsers of the same citizen (a laptop and a phone) are logged in with the
password and an authenticator. Ending *another* session needs a fresh
Ügyfélkapu+ (``KAPU_FRESH_PLUSZ_MAX_AGE``, 10 minutes by default); ending this
one is a logout. The security page is read in English (the ``kapu_lang``
cookie); times on it are local (``KAPU_TIMEZONE``, Budapest: UTC+1 in March).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from conftest import Api, csrf_from
from flask.testing import FlaskClient

from flask_kapu.i18n import problem_detail

LAPTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
STALE = {"minutes": 11}  # past the fresh step-up that ending another session needs


# --- browsers -----------------------------------------------------------------------------


def browser(app, user_agent: str, ip: str) -> FlaskClient:
    """A browser of its own (cookies, User-Agent, address), reading pages in English."""
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    client.set_cookie("kapu_lang", "en")
    return client


def log_in(api: Api, who, code: str, *, remember: bool = False) -> None:
    """Password, then the authenticator's code: a full Ügyfélkapu+ login (which may ask to
    remember the browser)."""
    assert (
        api.post("/login", {"username": who.username, "password": who.password}).status_code == 200
    )
    verified = api.post("/plusz/totp/verify", {"code": code, "remember_browser": remember})
    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json()["level"] == "plusz"


def step_up(api: Api, who, clock, kapu_totp_code) -> None:
    """Confirm with the authenticator again (its next code: each is accepted once)."""
    clock.advance(seconds=30)
    verified = api.post("/plusz/totp/verify", {"code": kapu_totp_code(who)})
    assert verified.status_code == 200, verified.get_json()


@pytest.fixture
def anna(kapu_account):
    return kapu_account("KisAnna", email="anna@example.hu", methods=("totp",))


@pytest.fixture
def laptop(app, anna, clock, kapu_totp_code) -> Api:
    """Anna's laptop: Firefox on Windows, logged in first."""
    api = Api(browser(app, LAPTOP, "192.0.2.10"))
    log_in(api, anna, kapu_totp_code(anna))
    return api


@pytest.fixture
def phone(app, anna, laptop, clock, kapu_totp_code) -> Api:
    """Anna's phone: Chrome on Android, logged in half a minute after the laptop."""
    clock.advance(seconds=30)
    api = Api(browser(app, PHONE, "198.51.100.7"))
    log_in(api, anna, kapu_totp_code(anna))
    return api


def listed(api: Api) -> list[dict[str, Any]]:
    response = api.client.get("/kapu/api/sessions")
    assert response.status_code == 200, response.get_json()
    sessions: list[dict[str, Any]] = response.get_json()["sessions"]
    return sessions


def session_of(api: Api, agent: str) -> dict[str, Any]:
    """The one listed session whose browser summary names ``agent`` ("Firefox"...)."""
    found = [s for s in listed(api) if agent in (s["browser"] or "")]
    assert len(found) == 1, listed(api)
    return found[0]


def delete(api: Api, session_id: object) -> Any:
    if api.csrf is None:
        api.session()
    return api.client.delete(
        f"/kapu/api/sessions/{session_id}", headers={"X-CSRFToken": api.csrf or ""}
    )


def logged_in(api: Api) -> bool:
    """Whether the browser's next request still finds its login (JSON and a protected page)."""
    authenticated = bool(api.session()["authenticated"])
    protected = api.client.get("/protected")
    assert (protected.status_code == 200) is authenticated, protected.status_code
    return authenticated


# --- the JSON API -------------------------------------------------------------------------


def test_the_list_shows_both_browsers_and_marks_the_callers_own(laptop, phone):
    sessions = listed(laptop)

    assert len(sessions) == 2
    by_browser = {("Firefox" in s["browser"]): s for s in sessions}
    own, other = by_browser[True], by_browser[False]
    assert own["current"] is True
    assert other["current"] is False
    assert "Windows" in own["browser"]
    assert "Android" in other["browser"]
    assert (own["ip"], other["ip"]) == ("192.0.2.10", "198.51.100.7")
    assert own["created_at"] == "2026-03-02T09:00:00+00:00"
    assert other["created_at"] == "2026-03-02T09:00:30+00:00"
    assert own["level"] == other["level"] == "plusz"
    assert session_of(phone, "Chrome")["current"] is True


def test_the_list_shows_the_remembered_browsers(app, laptop, clock, anna, kapu_totp_code):
    clock.advance(seconds=30)
    phone = Api(browser(app, PHONE, "198.51.100.7"))
    log_in(phone, anna, kapu_totp_code(anna), remember=True)

    response = laptop.client.get("/kapu/api/sessions")

    (remembered,) = response.get_json()["browsers"]
    assert "Chrome" in remembered["browser"]
    assert remembered["ip"] == "198.51.100.7"
    assert remembered["created_at"] == "2026-03-02T09:00:30+00:00"
    assert remembered["expires_at"] == "2026-04-01T09:00:30+00:00"  # KAPU_REMEMBER_BROWSER_DAYS


def test_the_list_needs_a_login(client):
    response = client.get("/kapu/api/sessions")

    assert response.status_code == 401
    assert response.get_json()["code"] == "login_required"


def test_ending_another_session_needs_a_fresh_step_up(laptop, phone, clock, anna, kapu_totp_code):
    other = session_of(laptop, "Chrome")
    clock.advance(**STALE)

    refused = delete(laptop, other["id"])

    assert refused.status_code == 401
    assert refused.get_json()["code"] == "plusz_required"
    assert logged_in(phone)

    step_up(laptop, anna, clock, kapu_totp_code)
    ended = delete(laptop, other["id"])

    assert ended.status_code == 204
    assert not logged_in(phone)
    assert logged_in(laptop)
    assert [s["current"] for s in listed(laptop)] == [True]


def test_the_ended_browser_is_refused_by_the_api_too(laptop, phone):
    assert delete(laptop, session_of(laptop, "Chrome")["id"]).status_code == 204

    response = phone.client.get("/kapu/api/sessions")

    assert response.status_code == 401
    assert response.get_json()["code"] == "login_required"


def test_ending_this_session_is_a_logout_and_needs_no_step_up(laptop, phone, clock):
    own = session_of(laptop, "Firefox")
    clock.advance(**STALE)

    response = delete(laptop, own["id"])

    assert response.status_code == 204
    assert not logged_in(laptop)
    assert logged_in(phone)
    assert [s["browser"] for s in listed(phone) if "Firefox" in s["browser"]] == []


def test_ending_all_other_sessions_keeps_this_one(app, laptop, phone, clock, anna, kapu_totp_code):
    clock.advance(seconds=30)
    third = Api(browser(app, PHONE, "203.0.113.5"))
    log_in(third, anna, kapu_totp_code(anna))
    clock.advance(**STALE)

    refused = laptop.post("/sessions/end-others")
    assert refused.status_code == 401
    assert refused.get_json()["code"] == "plusz_required"
    assert logged_in(phone)
    assert logged_in(third)

    step_up(laptop, anna, clock, kapu_totp_code)
    response = laptop.post("/sessions/end-others")

    assert response.status_code == 200
    assert response.get_json() == {"ended": 2}
    assert not logged_in(phone)
    assert not logged_in(third)
    assert logged_in(laptop)


def test_another_accounts_session_is_not_found_and_stays(app, laptop, kapu_account, kapu_totp_code):
    bela = kapu_account("NagyBela", methods=("totp",))
    stranger = Api(browser(app, PHONE, "203.0.113.9"))
    log_in(stranger, bela, kapu_totp_code(bela))
    theirs = session_of(stranger, "Chrome")["id"]

    response = delete(laptop, theirs)

    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"
    assert logged_in(stranger)


@pytest.mark.parametrize(
    "session_id", ["999999", "0", "-1", "abc", "1e3", "%C3%A9", "2147483648", "9" * 30]
)
def test_a_session_id_that_names_no_session_of_the_account_is_not_found(laptop, session_id):
    response = delete(laptop, session_id)

    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"
    assert logged_in(laptop)


def test_the_api_refuses_a_request_without_the_csrf_token(laptop, phone):
    other = session_of(laptop, "Chrome")["id"]

    deleted = laptop.client.delete(f"/kapu/api/sessions/{other}")
    ended = laptop.client.post("/kapu/api/sessions/end-others")

    assert (deleted.status_code, ended.status_code) == (400, 400)
    assert deleted.get_json()["code"] == ended.get_json()["code"] == "csrf_failed"
    assert logged_in(phone)


# --- the security page --------------------------------------------------------------------


def detail(app, problem: str) -> str:
    """The page-level message for a problem code (API.md), in English."""
    with app.test_request_context("/?lang=en"):
        return problem_detail(problem)


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def sessions_section(response: Any) -> str:
    found = re.search(r'<section id="sessions"[^>]*>(.*?)</section>', text_of(response), re.S)
    assert found, "no sessions section on the page"
    return found.group(1)


def session_rows(response: Any) -> list[str]:
    """The text of each row of the sessions table, tags and extra spaces removed."""
    table = re.search(
        r'<table class="kapu-sessions">.*?<tbody>(.*?)</tbody>', sessions_section(response), re.S
    )
    assert table, "no sessions table"
    rows = re.findall(r"<tr\b[^>]*>(.*?)</tr>", table.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def press(client: FlaskClient, button: str) -> Any:
    """On the security page, press the button of the form whose markup contains ``button``."""
    page = client.get("/kapu/security")
    assert page.status_code == 200, page.status_code
    markup = page.get_data(as_text=True)
    forms = [
        (attrs, body)
        for attrs, body in re.findall(r"<form\b([^>]*)>(.*?)</form>", markup, re.S)
        if button in html.unescape(attrs + body)
    ]
    assert len(forms) == 1, f"{len(forms)} forms contain {button!r}"
    action = re.search(r'\baction="([^"]*)"', forms[0][0])
    assert action, forms[0]
    return client.post(html.unescape(action.group(1)), data={"csrf_token": csrf_from(markup)})


def end_button(response: Any, agent: str) -> str:
    """The accessible name of the button that ends the session of the ``agent`` browser."""
    names = re.findall(r'aria-label="([^"]*)"', sessions_section(response))
    found = [n for n in names if agent in n]
    assert len(found) == 1, names
    return found[0]


def test_the_security_page_lists_the_sessions_in_local_time_with_this_browser_marked(laptop, phone):
    page = laptop.client.get("/kapu/security")

    rows = session_rows(page)
    assert len(rows) == 2
    own = next(r for r in rows if "Firefox" in r)
    other = next(r for r in rows if "Chrome" in r)
    assert "This browser" in own
    assert "This browser" not in other
    assert "192.0.2.10" in own
    assert "198.51.100.7" in other
    assert "2026-03-02 10:00" in own  # 09:00 UTC in Budapest
    assert "2026-03-02 10:00" in other
    assert "Sessions and devices" in sessions_section(page)


def test_the_page_says_which_actions_end_the_other_sessions(laptop):
    page = text_of(laptop.client.get("/kapu/security"))

    assert "Changing your password ends your other sessions." in page
    assert "Removing a second factor ends your other sessions." in page


def test_ending_another_session_on_the_page_asks_for_a_step_up_first(
    laptop, phone, clock, anna, kapu_totp_code
):
    clock.advance(**STALE)
    button = end_button(laptop.client.get("/kapu/security"), "Chrome")

    refused = press(laptop.client, button)

    assert refused.status_code == 302
    assert refused.headers["Location"] == "/kapu/plusz?next=/kapu/security"
    assert logged_in(phone)

    step_up(laptop, anna, clock, kapu_totp_code)
    ended = press(laptop.client, button)

    assert ended.status_code == 302
    assert ended.headers["Location"] == "/kapu/security?ended=one#sessions"
    page = laptop.client.get("/kapu/security?ended=one")
    assert "The session has ended." in sessions_section(page)
    assert len(session_rows(page)) == 1
    assert not logged_in(phone)
    assert phone.client.get("/kapu/security").headers["Location"].startswith("/kapu/login")


def test_ending_this_session_on_the_page_logs_out(laptop, phone, clock):
    clock.advance(**STALE)
    button = end_button(laptop.client.get("/kapu/security"), "Firefox")

    response = press(laptop.client, button)

    assert response.status_code == 302
    assert response.headers["Location"] == "/kapu/login?logged_out=1"
    assert not logged_in(laptop)
    assert logged_in(phone)


def test_ending_all_other_sessions_on_the_page(laptop, phone):
    response = press(laptop.client, "End all other sessions")

    assert response.status_code == 302
    assert response.headers["Location"] == "/kapu/security?ended=others#sessions"
    page = laptop.client.get("/kapu/security?ended=others")
    assert "Your other sessions have ended." in sessions_section(page)
    assert len(session_rows(page)) == 1
    assert not logged_in(phone)
    assert logged_in(laptop)


def test_with_one_session_there_is_nothing_else_to_end(laptop):
    section = sessions_section(laptop.client.get("/kapu/security"))

    assert "End all other sessions" not in section


def test_the_page_refuses_a_form_without_the_csrf_token(app, laptop, phone):
    other = session_of(laptop, "Chrome")["id"]

    one = laptop.client.post(f"/kapu/security/sessions/{other}/end")
    others = laptop.client.post("/kapu/security/sessions/end-others")

    assert (one.status_code, others.status_code) == (400, 400)
    assert detail(app, "csrf_failed") in sessions_section(one)
    assert detail(app, "csrf_failed") in sessions_section(others)
    assert logged_in(phone)


def test_the_page_does_not_end_another_accounts_session(app, laptop, kapu_account, kapu_totp_code):
    bela = kapu_account("NagyBela", methods=("totp",))
    stranger = Api(browser(app, PHONE, "203.0.113.9"))
    log_in(stranger, bela, kapu_totp_code(bela))
    theirs = session_of(stranger, "Chrome")["id"]
    token = csrf_from(laptop.client.get("/kapu/security").get_data(as_text=True))

    response = laptop.client.post(
        f"/kapu/security/sessions/{theirs}/end", data={"csrf_token": token}
    )

    assert response.status_code == 404
    assert logged_in(stranger)


@pytest.mark.parametrize("session_id", ["999999", "2147483648", "9" * 30])
def test_the_page_ends_no_session_for_an_id_that_names_none(laptop, phone, session_id):
    token = csrf_from(laptop.client.get("/kapu/security").get_data(as_text=True))

    response = laptop.client.post(
        f"/kapu/security/sessions/{session_id}/end", data={"csrf_token": token}
    )

    assert response.status_code == 404
    assert logged_in(phone)


def test_the_session_buttons_need_a_login(client):
    response = client.post("/kapu/security/sessions/end-others")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/kapu/login")


def test_removing_a_factor_says_the_other_sessions_have_ended(laptop, phone):
    removed = press(laptop.client, 'aria-label="Remove totp"')

    assert removed.headers["Location"] == "/kapu/security?removed=1"
    page = text_of(laptop.client.get(removed.headers["Location"]))
    assert "The second factor was removed. Your other sessions have ended." in page
    assert not logged_in(phone)


def test_the_page_lists_a_remembered_browser_and_forgets_it(
    app, laptop, clock, anna, kapu_totp_code
):
    clock.advance(seconds=30)
    phone = Api(browser(app, PHONE, "198.51.100.7"))
    log_in(phone, anna, kapu_totp_code(anna), remember=True)
    section = sessions_section(laptop.client.get("/kapu/security"))
    assert "Remembered browsers" in section
    button = next(n for n in re.findall(r'aria-label="([^"]*)"', section) if n.startswith("Forget"))
    assert "Chrome" in button
    assert "2026-03-02 10:00" in button

    response = press(laptop.client, button)

    assert response.headers["Location"] == "/kapu/security?forgotten=1"
    section = sessions_section(laptop.client.get("/kapu/security?forgotten=1"))
    assert "The browser is forgotten: its next login asks for the second factor again." in section
    assert "Remembered browsers" not in section
    assert laptop.client.get("/kapu/api/sessions").get_json()["browsers"] == []


@pytest.fixture
def without_factor(app, kapu_account) -> tuple[Api, Api]:
    """Two browsers of an account that has no second factor (logged in with the password)."""
    bela = kapu_account("NagyBela", methods=())
    browsers = (Api(browser(app, LAPTOP, "192.0.2.20")), Api(browser(app, PHONE, "192.0.2.21")))
    for api in browsers:
        response = api.post("/login", {"username": bela.username, "password": bela.password})
        assert response.get_json()["authenticated"] is True
    return browsers


def test_without_a_second_factor_another_session_cannot_be_ended(app, without_factor):
    laptop, phone = without_factor
    other = session_of(laptop, "Chrome")["id"]

    by_api = delete(laptop, other)
    by_page = press(laptop.client, end_button(laptop.client.get("/kapu/security"), "Chrome"))

    assert by_api.status_code == 403
    assert by_api.get_json()["code"] == "enrollment_required"
    assert by_page.status_code == 403
    assert detail(app, "enrollment_required") in sessions_section(by_page)
    assert logged_in(phone)
