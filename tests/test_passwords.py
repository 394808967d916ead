"""Passwords: the policy's machine codes and argon2id hashing."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flask_kapu.passwords import PasswordHashing, PasswordPolicy, common_passwords

STRONG = "Hegyi-Patak42"
POLICY_CODES = {
    "too_short",
    "too_long",
    "mixed_case",
    "digit_or_symbol",
    "contains_username",
    "common",
    "control_characters",
}
FAST = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


@pytest.fixture
def policy():
    return PasswordPolicy()


@pytest.fixture(scope="module")
def hashing():
    return PasswordHashing(**FAST)


# --- policy -------------------------------------------------------------------


def test_a_strong_password_breaks_no_rule(policy):
    assert policy.problems(STRONG) == []
    assert policy.problems(STRONG, username="KisAnna") == []


def test_the_default_policy_is_8_to_1024_characters_mixed_case_and_a_digit_or_symbol(policy):
    assert policy.min_length == 8
    assert policy.max_length == 1024
    assert policy.require_mixed_case is True
    assert policy.require_digit_or_symbol is True


def test_a_password_shorter_than_the_minimum_is_too_short(policy):
    assert "too_short" in policy.problems("Hegy-P4")
    assert "too_short" not in policy.problems("Hegy-P4t")


def test_a_password_longer_than_the_maximum_is_too_long(policy):
    assert "too_long" in policy.problems("Hegy-P4" + "t" * 1018)
    assert "too_long" not in policy.problems("Hegy-P4" + "t" * 1017)


def test_a_huge_password_is_refused_only_as_too_long(policy):
    assert policy.problems("a" * 1_000_000) == ["too_long"]


@pytest.mark.parametrize("password", ["hegyi-patak42", "HEGYI-PATAK42", "12345678-!?"])
def test_a_password_without_both_upper_and_lower_case_breaks_mixed_case(policy, password):
    assert "mixed_case" in policy.problems(password)


def test_accented_letters_count_towards_mixed_case(policy):
    assert policy.problems("árvíztűrőÉ-42") == []


def test_a_password_of_letters_only_breaks_digit_or_symbol(policy):
    assert "digit_or_symbol" in policy.problems("HegyiPatak")
    assert "digit_or_symbol" in policy.problems("ÁrvíztűrőTükör")


@pytest.mark.parametrize("password", ["HegyiPatak7", "HegyiPatak!", "Hegyi.Patak", "HegyiPatak€"])
def test_one_digit_or_symbol_satisfies_digit_or_symbol(policy, password):
    assert "digit_or_symbol" not in policy.problems(password)


@pytest.mark.parametrize(
    "password", ["KisAnna-2024", "kisanna-2024X", "X-KISANNA-9", "99kIsAnNa!Q"]
)
def test_a_password_containing_the_username_is_refused_ignoring_case(policy, password):
    assert "contains_username" in policy.problems(password, username="KisAnna")


def test_a_password_is_checked_against_the_username_only_when_one_is_given(policy):
    assert "contains_username" not in policy.problems("KisAnna-2024")
    assert "contains_username" not in policy.problems("KisAnna-2024", username="")


def test_the_bundled_list_holds_well_known_passwords():
    assert {"password1", "password123!", "jelszo123", "123456"} <= common_passwords()


def test_the_bundled_list_is_lower_case_without_comments_or_blanks():
    entries = common_passwords()
    assert entries
    assert all(entry == entry.lower() for entry in entries)
    assert all(entry == entry.strip() and entry for entry in entries)
    assert not any(entry.startswith("#") for entry in entries)


@pytest.mark.parametrize("password", ["Password1", "PASSWORD123!", "Jelszo123", "jElSzO123"])
def test_a_password_from_the_common_list_is_refused_ignoring_case(policy, password):
    assert "common" in policy.problems(password)


def test_a_password_not_on_the_list_is_not_common(policy):
    assert STRONG.lower() not in common_passwords()
    assert "common" not in policy.problems(STRONG)


@pytest.mark.parametrize("char", ["\x00", "\n", "\t", "\r", "\x1b", "\x7f", "\x85", "\ud800"])
def test_a_password_with_a_control_character_or_lone_surrogate_is_refused(policy, char):
    assert policy.problems(f"Hegyi{char}Patak42") == ["control_characters"]


@pytest.mark.parametrize("password", ["Kő és Víz 42", "Hegyi-Patak🙂", "Ünnep2024!ñ"])
def test_spaces_non_ascii_letters_and_emoji_are_allowed(policy, password):
    assert policy.problems(password) == []


def test_every_broken_rule_is_reported(policy):
    assert set(policy.problems("abc")) == {"too_short", "mixed_case", "digit_or_symbol", "common"}


def test_mixed_case_can_be_switched_off():
    relaxed = PasswordPolicy(require_mixed_case=False)
    assert relaxed.problems("hegyi-patak42") == []


def test_digit_or_symbol_can_be_switched_off():
    relaxed = PasswordPolicy(require_digit_or_symbol=False)
    assert relaxed.problems("HegyiPatak") == []


def test_the_minimum_length_can_be_set():
    strict = PasswordPolicy(min_length=14)
    assert strict.problems("Hegyi-Patak42!") == []
    assert strict.problems("Hegyi-Patak42") == ["too_short"]


def test_the_maximum_length_can_be_set():
    short = PasswordPolicy(max_length=12)
    assert short.problems("Hegyi-Pata42") == []
    assert short.problems("Hegyi-Patak42") == ["too_long"]


def test_a_policy_cannot_be_changed_once_made(policy):
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.min_length = 1


@given(st.text(max_size=1100), st.text(max_size=20))
def test_the_policy_never_raises_and_speaks_only_known_codes(password, username):
    problems = PasswordPolicy().problems(password, username=username)
    assert set(problems) <= POLICY_CODES
    assert len(problems) == len(set(problems))


@given(st.text(max_size=40))
def test_an_accepted_password_meets_every_default_rule(password):
    if PasswordPolicy().problems(password) == []:
        assert 8 <= len(password) <= 1024
        assert any(ch.islower() for ch in password)
        assert any(ch.isupper() for ch in password)
        assert not password.isalpha()
        assert password.lower() not in common_passwords()


# --- hashing ------------------------------------------------------------------


def test_a_hashed_password_verifies(hashing):
    stored = hashing.hash(STRONG)
    assert hashing.verify(stored, STRONG) is True


@pytest.mark.parametrize("attempt", ["Hegyi-Patak43", "hegyi-patak42", "Hegyi-Patak42 ", ""])
def test_a_wrong_password_does_not_verify(hashing, attempt):
    stored = hashing.hash(STRONG)
    assert hashing.verify(stored, attempt) is False


def test_hashes_are_argon2id_with_the_configured_parameters(hashing):
    stored = hashing.hash(STRONG)
    assert stored.startswith("$argon2id$")
    assert "m=8,t=1,p=1" in stored


def test_hashes_are_salted(hashing):
    first, second = hashing.hash(STRONG), hashing.hash(STRONG)
    assert first != second
    assert hashing.verify(first, STRONG)
    assert hashing.verify(second, STRONG)


def test_a_hash_never_contains_the_password(hashing):
    assert STRONG not in hashing.hash(STRONG)


@pytest.mark.parametrize("attempt", ["", STRONG, "flask_kapu dummy password"])
def test_without_a_stored_hash_no_password_verifies(hashing, attempt):
    assert hashing.verify(None, attempt) is False


@pytest.mark.parametrize("attempt", ["", STRONG, "flask_kapu dummy password"])
def test_an_empty_stored_hash_never_verifies(hashing, attempt):
    assert hashing.verify("", attempt) is False


@pytest.mark.parametrize("stored", ["not a hash", "$argon2id$v=19$m=8,t=1,p=1$garbage", STRONG])
def test_a_malformed_stored_hash_does_not_verify(hashing, stored):
    assert hashing.verify(stored, STRONG) is False


def test_a_hash_made_with_other_parameters_still_verifies(hashing):
    old = PasswordHashing(time_cost=2, memory_cost=16, parallelism=1).hash(STRONG)
    assert hashing.verify(old, STRONG) is True


def test_a_hash_made_with_the_same_parameters_needs_no_rehash(hashing):
    assert hashing.needs_rehash(hashing.hash(STRONG)) is False
    assert PasswordHashing(**FAST).needs_rehash(hashing.hash(STRONG)) is False


@pytest.mark.parametrize("changed", [{"time_cost": 2}, {"memory_cost": 32}, {"parallelism": 2}])
def test_a_hash_needs_rehash_when_any_parameter_changes(changed):
    base = {**FAST, "memory_cost": 16}  # argon2 needs 8 KiB per lane: room for two lanes
    stored = PasswordHashing(**base).hash(STRONG)
    assert PasswordHashing(**{**base, **changed}).needs_rehash(stored) is True


def test_a_malformed_stored_hash_needs_rehash(hashing):
    assert hashing.needs_rehash("not a hash") is True
