"""Levels, the government's acr URNs, and what a session has proven."""

from datetime import datetime, timedelta, timezone

import pytest

from flask_kapu.levels import ACR_WEBAUTHN, Level, Proof, acr_for

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
ACR_PASSWORD = "urn:eksz.gov.hu:1.0:azonositas:kau:1:uk:uidpwd"
ACR_TOTP = "urn:eksz.gov.hu:1.0:azonositas:kau:2:uk:totp"
ACR_EMAIL = "urn:eksz.gov.hu:1.0:azonositas:kau:2:uk:email"


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def proof(**methods: datetime) -> Proof:
    """A session of account 1 that logged in with a password an hour ago, plus ``methods``."""
    login = ago(hours=1)
    return Proof(account_id=1, epoch=0, methods={"password": login, **methods}, auth_time=login)


# --- Level --------------------------------------------------------------------


def test_plusz_is_above_ugyfelkapu_which_is_above_none():
    assert Level.NONE < Level.UGYFELKAPU < Level.PLUSZ
    assert max(Level) is Level.PLUSZ


def test_a_level_is_labelled_with_its_api_name():
    assert [level.label for level in Level] == ["none", "ugyfelkapu", "plusz"]


@pytest.mark.parametrize(
    ("name", "level"), [("ugyfelkapu", Level.UGYFELKAPU), ("plusz", Level.PLUSZ)]
)
def test_a_level_is_parsed_from_its_name(name, level):
    assert Level.parse(name) is level


@pytest.mark.parametrize("name", ["gold", "plus", "plusz ", "", "2", "ügyfélkapu+"])
def test_an_unknown_level_name_is_refused(name):
    with pytest.raises(ValueError, match="unknown level"):
        Level.parse(name)


# --- acr ----------------------------------------------------------------------


def test_no_method_yet_has_no_acr():
    assert acr_for({}) is None


def test_a_password_login_has_the_governments_password_acr():
    assert acr_for({"password": NOW}) == ACR_PASSWORD


def test_a_password_and_totp_login_has_the_governments_totp_acr():
    assert acr_for({"password": NOW, "totp": NOW}) == ACR_TOTP


def test_a_password_and_email_code_login_has_the_governments_email_acr():
    assert acr_for({"password": NOW, "email": NOW}) == ACR_EMAIL


def test_a_webauthn_login_has_the_projects_own_acr_outside_the_governments_namespace():
    assert acr_for({"password": NOW, "webauthn": NOW}) == ACR_WEBAUTHN
    assert ACR_WEBAUTHN.startswith("urn:")
    assert not ACR_WEBAUTHN.startswith("urn:eksz.gov.hu:")


@pytest.mark.parametrize(
    ("methods", "acr"),
    [
        (["password", "email", "totp"], ACR_TOTP),
        (["password", "totp", "email"], ACR_TOTP),
        (["email", "totp", "password"], ACR_TOTP),
        (["password", "email", "webauthn"], ACR_WEBAUTHN),
        (["password", "totp", "webauthn"], ACR_WEBAUTHN),
    ],
)
def test_the_acr_names_the_strongest_method_used_whatever_the_order(methods, acr):
    assert acr_for(dict.fromkeys(methods, NOW)) == acr


# --- Proof ----------------------------------------------------------------------


def test_a_password_only_session_is_at_ugyfelkapu():
    session = proof()
    assert session.level is Level.UGYFELKAPU
    assert session.second_factors == {}
    assert session.plusz_time is None


@pytest.mark.parametrize("method", ["totp", "email", "webauthn", "recovery"])
def test_a_session_with_a_second_factor_is_at_plusz(method):
    session = proof(**{method: ago(minutes=5)})
    assert session.level is Level.PLUSZ
    assert session.second_factors == {method: ago(minutes=5)}


def test_the_plusz_time_is_the_latest_second_factor():
    session = proof(totp=ago(minutes=30), email=ago(minutes=2))
    assert session.plusz_time == ago(minutes=2)


def test_the_password_is_never_a_second_factor():
    session = proof()
    assert "password" not in session.second_factors
    assert session.has_plusz(now=NOW) is False
    assert session.has_plusz(now=NOW, methods=frozenset({"password"})) is False


def test_any_second_factor_is_plusz_when_no_age_or_method_is_asked():
    assert proof(email=ago(days=2)).has_plusz(now=NOW) is True


def test_a_second_factor_within_max_age_is_plusz():
    session = proof(totp=ago(minutes=5))
    assert session.has_plusz(now=NOW, max_age=timedelta(minutes=10)) is True


def test_a_second_factor_exactly_max_age_old_still_counts():
    session = proof(totp=ago(minutes=10))
    assert session.has_plusz(now=NOW, max_age=timedelta(minutes=10)) is True


def test_a_second_factor_older_than_max_age_is_not_plusz():
    session = proof(totp=ago(minutes=15))
    assert session.has_plusz(now=NOW, max_age=timedelta(minutes=10)) is False


def test_a_second_factor_of_another_method_than_asked_is_not_plusz():
    session = proof(email=ago(minutes=1))
    assert session.has_plusz(now=NOW, methods=frozenset({"totp", "webauthn"})) is False


def test_a_second_factor_of_an_asked_method_is_plusz():
    session = proof(totp=ago(minutes=1))
    assert session.has_plusz(now=NOW, methods=frozenset({"totp", "webauthn"})) is True


def test_max_age_and_methods_must_hold_for_the_same_second_factor():
    # A fresh e-mail code and an old TOTP code: a view that wants a recent TOTP is not satisfied.
    session = proof(email=ago(minutes=1), totp=ago(minutes=50))
    totp = frozenset({"totp"})
    assert session.has_plusz(now=NOW, max_age=timedelta(minutes=10), methods=totp) is False
    assert session.has_plusz(now=NOW, max_age=timedelta(hours=1), methods=totp) is True
    assert session.has_plusz(now=NOW, max_age=timedelta(minutes=10)) is True


def test_an_empty_method_set_is_never_satisfied():
    assert proof(totp=ago(minutes=1)).has_plusz(now=NOW, methods=frozenset()) is False
