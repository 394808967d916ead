"""Settings: documented defaults, accepted types, and KapuConfigError naming the key."""

import dataclasses
from datetime import date, datetime, timedelta, timezone

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from flask_kapu.config import SETTINGS, KapuConfig, load_config
from flask_kapu.errors import KapuConfigError, KapuError

DURATION_KEYS = [
    "KAPU_ACTIVATION_CODE_TTL",
    "KAPU_EMAIL_CODE_TTL",
    "KAPU_PLUSZ_MAX_AGE",
    "KAPU_FRESH_PLUSZ_MAX_AGE",
    "KAPU_LOCKOUT_DURATION",
    "KAPU_LOCKOUT_MAX_DURATION",
    "KAPU_PENDING_ACCOUNT_TTL",
    "KAPU_EID_TOKEN_TTL",
]
BUDAPEST_WINTER = timezone(timedelta(hours=1))
BUDAPEST_SUMMER = timezone(timedelta(hours=2))


def attribute(key: str) -> str:
    return key.removeprefix("KAPU_").lower()


def refused(mapping) -> KapuConfigError:
    with pytest.raises(KapuConfigError) as caught:
        load_config(mapping)
    return caught.value


@pytest.fixture
def defaults() -> KapuConfig:
    return load_config({})


# --- defaults -------------------------------------------------------------------


def test_codes_default_to_five_days_for_activation_and_ten_minutes_for_email(defaults):
    assert defaults.activation_code_ttl == timedelta(days=5)
    assert defaults.email_code_ttl == timedelta(minutes=10)


def test_an_account_locks_after_five_failed_attempts_by_default(defaults):
    assert defaults.max_failed_attempts == 5


def test_pages_live_under_kapu_and_the_api_under_kapu_api_by_default(defaults):
    assert defaults.url_prefix == "/kapu"
    assert defaults.api_prefix == "/kapu/api"


def test_never_activated_accounts_are_kept_sixty_days_by_default(defaults):
    assert defaults.pending_account_ttl == timedelta(days=60)


def test_totp_email_and_webauthn_are_offered_by_default(defaults):
    assert defaults.second_factors == ("totp", "email", "webauthn")


def test_there_is_no_sunset_and_no_plusz_max_age_by_default(defaults):
    assert defaults.plusz_required_from is None
    assert defaults.sunset is None
    assert defaults.plusz_max_age is None


def test_other_documented_defaults(defaults):
    assert defaults.database_url is None
    assert defaults.fresh_plusz_max_age == timedelta(minutes=10)
    assert defaults.timezone == "Europe/Budapest"
    assert defaults.encryption_keys == ()


def test_keys_without_the_kapu_prefix_are_ignored():
    config = load_config({"SECRET_KEY": "x", "MAIL_SERVER": "smtp.example.org", "DEBUG": True})
    assert config == load_config({})


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.key)
def test_giving_a_default_explicitly_is_the_same_as_leaving_it_out(setting, defaults):
    assert load_config({setting.key: setting.default}) == defaults


def test_the_config_cannot_be_changed_once_loaded(defaults):
    with pytest.raises(dataclasses.FrozenInstanceError):
        defaults.max_failed_attempts = 100


# --- durations --------------------------------------------------------------


@pytest.mark.parametrize("key", DURATION_KEYS)
def test_a_duration_may_be_given_in_seconds(key):
    config = load_config({key: 90})
    assert getattr(config, attribute(key)) == timedelta(seconds=90)


@pytest.mark.parametrize("key", DURATION_KEYS)
def test_a_duration_may_be_given_in_fractional_seconds(key):
    config = load_config({key: 1.5})
    assert getattr(config, attribute(key)) == timedelta(seconds=1.5)


@pytest.mark.parametrize("key", DURATION_KEYS)
def test_a_duration_may_be_given_as_a_timedelta(key):
    config = load_config({key: timedelta(hours=2)})
    assert getattr(config, attribute(key)) == timedelta(hours=2)


@pytest.mark.parametrize("key", DURATION_KEYS)
@pytest.mark.parametrize("value", [0, -1, -0.5, timedelta(0), timedelta(seconds=-5)])
def test_a_zero_or_negative_duration_is_refused_naming_the_key(key, value):
    error = refused({key: value})
    assert error.key == key
    assert key in str(error)


@pytest.mark.parametrize("key", DURATION_KEYS)
@pytest.mark.parametrize("value", ["300", True, False, [300], b"300"])
def test_a_duration_of_another_type_is_refused_naming_the_key(key, value):
    assert refused({key: value}).key == key


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**20, -(10**20)])
def test_a_non_finite_or_out_of_range_duration_is_refused_naming_the_key(value):
    assert refused({"KAPU_EMAIL_CODE_TTL": value}).key == "KAPU_EMAIL_CODE_TTL"


def test_plusz_max_age_none_means_as_long_as_the_session():
    assert load_config({"KAPU_PLUSZ_MAX_AGE": None}).plusz_max_age is None


def test_a_required_duration_cannot_be_none():
    assert refused({"KAPU_ACTIVATION_CODE_TTL": None}).key == "KAPU_ACTIVATION_CODE_TTL"


@given(st.integers(min_value=1, max_value=10**9))
def test_any_positive_number_of_seconds_is_that_duration(seconds):
    config = load_config({"KAPU_EMAIL_CODE_TTL": seconds})
    assert config.email_code_ttl == timedelta(seconds=seconds)


@given(st.integers(min_value=-(10**9), max_value=0))
def test_no_number_of_seconds_below_one_is_a_duration(seconds):
    assert refused({"KAPU_EMAIL_CODE_TTL": seconds}).key == "KAPU_EMAIL_CODE_TTL"


# --- unknown and ill-typed keys --------------------------------------------


@pytest.mark.parametrize(
    "key", ["KAPU_ACTIVATION_TTL", "KAPU_URL_PERFIX", "KAPU_", "KAPU_url_prefix"]
)
def test_an_unknown_kapu_key_is_refused_naming_it(key):
    error = refused({key: 1})
    assert error.key == key
    assert key in str(error)


def test_a_config_error_is_a_kapu_error_and_a_value_error():
    error = refused({"KAPU_TYPO": 1})
    assert isinstance(error, KapuError)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("KAPU_MAX_FAILED_ATTEMPTS", "5"),
        ("KAPU_MAX_FAILED_ATTEMPTS", True),
        ("KAPU_MAX_FAILED_ATTEMPTS", 0),
        ("KAPU_MAX_FAILED_ATTEMPTS", -3),
        ("KAPU_MAX_FAILED_ATTEMPTS", 2.5),
        ("KAPU_CODE_MAX_ATTEMPTS", False),
        ("KAPU_ARGON2_MEMORY_COST", None),
        ("KAPU_PLUSZ_REQUIRED_FROM", datetime(2025, 1, 16)),  # naive
        ("KAPU_PLUSZ_REQUIRED_FROM", "2025-01-16"),
        ("KAPU_PLUSZ_REQUIRED_FROM", 1737000000),
        ("KAPU_URL_PREFIX", "kapu/"),
        ("KAPU_URL_PREFIX", "kapu"),
        ("KAPU_URL_PREFIX", "/kapu/"),
        ("KAPU_URL_PREFIX", "/"),
        ("KAPU_URL_PREFIX", ""),
        ("KAPU_URL_PREFIX", "//kapu"),
        ("KAPU_URL_PREFIX", "/ugyfel//kapu"),
        ("KAPU_URL_PREFIX", None),
        ("KAPU_SECOND_FACTORS", ("totp", "sms")),
        ("KAPU_SECOND_FACTORS", ["password"]),
        ("KAPU_SECOND_FACTORS", "totp"),
        ("KAPU_SECOND_FACTORS", [1]),
        ("KAPU_SECOND_FACTORS", {"totp": True}),
        ("KAPU_RATELIMIT_SECRETS", "thirty a minute"),
        ("KAPU_RATELIMIT_REGISTER", ""),
        ("KAPU_RATELIMIT_MAIL", "-1 per minute"),
        ("KAPU_EID_CHECK_LIMIT", 5),
        ("KAPU_TIMEZONE", "Europe/Bupadest"),
        ("KAPU_TIMEZONE", "../../etc/passwd"),
        ("KAPU_TIMEZONE", ""),
        ("KAPU_TIMEZONE", None),
        ("KAPU_PASSWORD_REQUIRE_MIXED_CASE", "yes"),
        ("KAPU_PASSWORD_REQUIRE_DIGIT_OR_SYMBOL", 1),
        ("KAPU_DATABASE_URL", 42),
        ("KAPU_ENCRYPTION_KEYS", ["a key", ""]),
        ("KAPU_ENCRYPTION_KEYS", [b"bytes key"]),
        ("KAPU_ENCRYPTION_KEYS", 42),
        ("KAPU_HELP_TEXT", None),
        ("KAPU_MAIL_SUBJECT_PREFIX", 7),
    ],
)
def test_an_ill_typed_value_is_refused_naming_the_key(key, value):
    error = refused({key: value})
    assert error.key == key
    assert key in str(error)


def test_an_unhashable_second_factor_is_refused_naming_the_key():
    assert refused({"KAPU_SECOND_FACTORS": [["totp"]]}).key == "KAPU_SECOND_FACTORS"


def test_a_minimum_password_length_above_the_maximum_is_refused():
    error = refused({"KAPU_PASSWORD_MIN_LENGTH": 20, "KAPU_PASSWORD_MAX_LENGTH": 10})
    assert error.key == "KAPU_PASSWORD_MIN_LENGTH"


# --- well-typed values ------------------------------------------------------


@pytest.mark.parametrize("prefix", ["/ugyfelkapu", "/auth/kapu", "/k"])
def test_a_path_prefix_is_accepted(prefix):
    config = load_config({"KAPU_URL_PREFIX": prefix})
    assert config.url_prefix == prefix
    assert config.api_prefix == f"{prefix}/api"


@pytest.mark.parametrize(
    "methods", [["totp"], ("email", "webauthn"), ["webauthn", "totp", "email"]]
)
def test_a_subset_of_the_known_methods_is_offered_as_a_tuple_in_the_given_order(methods):
    assert load_config({"KAPU_SECOND_FACTORS": methods}).second_factors == tuple(methods)


def test_rate_limits_are_limits_strings():
    config = load_config({"KAPU_RATELIMIT_SECRETS": "5 per second; 100 per hour"})
    assert config.ratelimit_secrets == "5 per second; 100 per hour"


NEW_KEY = Fernet.generate_key().decode()
OLD_KEY = Fernet.generate_key().decode()


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ()), (NEW_KEY, (NEW_KEY,)), ([NEW_KEY, OLD_KEY], (NEW_KEY, OLD_KEY))],
)
def test_encryption_keys_are_one_key_or_a_list_newest_first(value, expected):
    assert load_config({"KAPU_ENCRYPTION_KEYS": value}).encryption_keys == expected


@pytest.mark.parametrize(
    "value",
    [
        "not a fernet key",
        [NEW_KEY, "too-short"],
        [NEW_KEY, NEW_KEY[:-2] + "!="],  # not base64
        Fernet.generate_key().decode()[:40],
    ],
)
def test_a_malformed_encryption_key_is_refused_naming_the_setting_not_the_key(value):
    error = refused({"KAPU_ENCRYPTION_KEYS": value})

    assert error.key == "KAPU_ENCRYPTION_KEYS"
    assert "Fernet.generate_key()" in str(error)
    assert NEW_KEY not in str(error)


def test_a_time_zone_name_is_accepted():
    assert load_config({"KAPU_TIMEZONE": "America/New_York"}).timezone == "America/New_York"


# --- the sunset ---------------------------------------------------------------


def test_a_sunset_date_is_midnight_in_budapest_expressed_in_utc():
    config = load_config({"KAPU_PLUSZ_REQUIRED_FROM": date(2025, 1, 16)})
    assert config.plusz_required_from == date(2025, 1, 16)
    assert config.sunset == datetime(2025, 1, 15, 23, 0, tzinfo=timezone.utc)
    assert config.sunset.isoformat() == "2025-01-15T23:00:00+00:00"


def test_a_summer_sunset_date_follows_budapest_daylight_saving_time():
    config = load_config({"KAPU_PLUSZ_REQUIRED_FROM": date(2025, 7, 1)})
    assert config.sunset == datetime(2025, 7, 1, tzinfo=BUDAPEST_SUMMER)
    assert config.sunset.isoformat() == "2025-06-30T22:00:00+00:00"


def test_a_sunset_date_is_midnight_in_the_configured_time_zone():
    utc = load_config({"KAPU_PLUSZ_REQUIRED_FROM": date(2025, 1, 16), "KAPU_TIMEZONE": "UTC"})
    assert utc.sunset == datetime(2025, 1, 16, tzinfo=timezone.utc)
    tokyo = {"KAPU_PLUSZ_REQUIRED_FROM": date(2025, 1, 16), "KAPU_TIMEZONE": "Asia/Tokyo"}
    assert load_config(tokyo).sunset.isoformat() == "2025-01-15T15:00:00+00:00"


def test_an_aware_sunset_datetime_is_the_same_instant_in_utc():
    moment = datetime(2025, 1, 16, 8, 30, tzinfo=BUDAPEST_WINTER)
    config = load_config({"KAPU_PLUSZ_REQUIRED_FROM": moment})
    assert config.sunset == moment
    assert config.sunset.utcoffset() == timedelta(0)
    assert config.sunset.isoformat() == "2025-01-16T07:30:00+00:00"


def test_a_utc_sunset_datetime_is_kept():
    moment = datetime(2025, 1, 16, tzinfo=timezone.utc)
    assert load_config({"KAPU_PLUSZ_REQUIRED_FROM": moment}).sunset == moment


# --- SETTINGS, the one place settings are defined ----------------------------


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.key)
def test_every_setting_is_a_documented_kapu_key(setting):
    assert setting.key.startswith("KAPU_")
    assert setting.doc.strip()
    assert setting.type.strip()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.key)
def test_every_setting_lands_in_a_config_field_of_its_name(setting):
    field_names = {field.name for field in dataclasses.fields(KapuConfig)}
    assert setting.attribute == attribute(setting.key)
    assert setting.attribute in field_names


def test_every_config_field_has_exactly_one_setting():
    attributes = [setting.attribute for setting in SETTINGS]
    assert len(attributes) == len(set(attributes))
    assert set(attributes) == {field.name for field in dataclasses.fields(KapuConfig)}
