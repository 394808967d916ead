"""Usernames: the rules of API.md ("Formats", "Usernames") and DOMAIN.md.

Letters of the Hungarian alphabet only, 4 to 64 of them, at least three
different ones ignoring case, NFC the only normalisation; case-only variants
share a key so that they cannot both be registered.
"""

import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flask_kapu.usernames import (
    ALPHABET,
    MAX_LENGTH,
    MIN_LENGTH,
    normalize,
    username_key,
    username_problems,
)

HUNGARIAN_LOWER = "abcdefghijklmnopqrstuvwxyzáéíóöőúüű"
HUNGARIAN_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZÁÉÍÓÖŐÚÜŰ"
HUNGARIAN = HUNGARIAN_LOWER + HUNGARIAN_UPPER
PROBLEM_CODES = {"length", "alphabet", "distinct"}


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --- the alphabet and the limits -------------------------------------------


def test_the_alphabet_is_the_hungarian_letters_in_both_cases():
    assert set(HUNGARIAN) == ALPHABET
    assert len(ALPHABET) == 70


def test_a_username_is_four_to_sixty_four_characters():
    assert (MIN_LENGTH, MAX_LENGTH) == (4, 64)


@pytest.mark.parametrize(
    "name",
    ["KisAnna", "kovacs", "Ödön", "Árvíztűrő", "TÜKÖRFÚRÓGÉP", "Erzsébet", "Győző"],
)
def test_a_name_of_hungarian_letters_is_accepted(name):
    assert username_problems(name) == []


@pytest.mark.parametrize("letter", HUNGARIAN)
def test_every_letter_of_the_hungarian_alphabet_is_allowed(letter):
    assert username_problems(f"{letter}xyz") == []


@pytest.mark.parametrize(
    "name",
    [
        "Kis Anna",  # space
        "kis-anna",  # hyphen
        "kis_anna",
        "anna1",
        "kis%anna",
        "kis/anna",
        "kis§anna",
        "kis&anna",
        "kis.anna",
        "Kisänna",  # German ä is not Hungarian
        "Kisañna",
        "Kisõnna",  # õ (tilde) is not ő (double acute)
        "Kisônna",  # ô (circumflex) is not ő
        "Kisûnna",  # û (circumflex) is not ű
        "Kisаnna",  # Cyrillic а that looks like a Latin a
        "Ｋisanna",  # full-width K
        "ki\u00adsanna",  # soft hyphen
        "kisann\u0301a",  # n + acute composes to ń, not a Hungarian letter
        "kisanx\u0301a",  # x + acute composes to nothing: a bare combining mark
    ],
)
def test_a_character_outside_the_hungarian_alphabet_is_refused(name):
    assert "alphabet" in username_problems(name)


@pytest.mark.parametrize(
    "name", [" KisAnna", "KisAnna ", "\tKisAnna", "KisAnna\n", "\u00a0KisAnna"]
)
def test_surrounding_whitespace_is_refused_not_trimmed(name):
    assert username_problems(name) == ["alphabet"]


@pytest.mark.parametrize(
    "name", ["Kis\u200bAnna", "\u200bKisAnna", "Kis\u200dAnna", "\ufeffKisAnna"]
)
def test_a_zero_width_character_is_refused(name):
    assert username_problems(name) == ["alphabet"]


# --- length -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["abc", "Ödn", "xy"])
def test_a_name_shorter_than_four_letters_is_refused(name):
    assert "length" in username_problems(name)
    assert "alphabet" not in username_problems(name)


def test_the_empty_name_is_refused_for_its_length():
    assert "length" in username_problems("")


def test_a_name_of_exactly_four_letters_is_accepted():
    assert username_problems("abcd") == []


def test_a_name_of_exactly_sixty_four_letters_is_accepted():
    name = ("abcdefgh" * 8)[:64]
    assert len(name) == 64
    assert username_problems(name) == []


def test_a_name_of_sixty_five_letters_is_refused():
    name = "abcdefgh" * 8 + "x"
    assert len(name) == 65
    assert username_problems(name) == ["length"]


def test_the_length_is_counted_after_nfc_normalisation():
    # 64 letters "á" typed decomposed are 128 code points, but 64 letters.
    name = nfd("áéí" * 21 + "ő")
    assert len(name) == 128
    assert username_problems(name) == []


def test_huge_input_is_refused_quickly_as_too_long():
    # One base letter with a million combining marks of mixed classes: the
    # kind of input whose NFC normalisation takes minutes.
    huge = "a" + "\u0301\u0316" * 500_000
    started = time.perf_counter()
    problems = username_problems(huge)
    elapsed = time.perf_counter() - started
    assert problems == ["length"]
    assert elapsed < 1.0


# --- at least three different letters --------------------------------------


@pytest.mark.parametrize("name", ["Anna", "mama", "AnNa", "MAMA", "aaaa", "abab", "Ababab"])
def test_username_with_only_two_distinct_letters_ignoring_case_is_refused(name):
    assert username_problems(name) == ["distinct"]


@pytest.mark.parametrize("name", ["Anni", "Mamó", "abca", "Ödön"])
def test_three_distinct_letters_are_enough(name):
    assert username_problems(name) == []


def test_an_accented_letter_is_a_different_letter_from_its_base():
    assert username_problems("aáaá") == ["distinct"]
    assert username_problems("oóöő") == []


def test_every_broken_rule_is_reported():
    assert set(username_problems("a a")) == PROBLEM_CODES


# --- NFC ------------------------------------------------------------------------


def test_decomposed_input_is_accepted_as_the_composed_letter():
    decomposed = "Ka\u0301roly"
    assert decomposed != "Károly"
    assert normalize(decomposed) == "Károly"
    assert username_problems(decomposed) == []


def test_a_decomposed_double_acute_becomes_the_hungarian_letter():
    assert normalize("Ero\u030bs") == "Erős"
    assert normalize("U\u030bz") == "Űz"
    assert username_problems("Ero\u030bs") == []


def test_normalize_neither_trims_nor_changes_case():
    assert normalize(" KisAnna ") == " KisAnna "
    assert normalize("KisAnna") == "KisAnna"


# --- username_key: case-only variants collide --------------------------------


@pytest.mark.parametrize("variant", ["kisanna", "KISANNA", "Kisanna", "kISaNNA"])
def test_case_only_variants_share_a_key(variant):
    assert username_key(variant) == username_key("KisAnna")


def test_case_only_variants_of_accented_letters_share_a_key():
    assert username_key("ÁRVÍZTŰRŐ") == username_key("árvíztűrő")


def test_nfc_equal_variants_share_a_key():
    assert username_key("Ka\u0301roly") == username_key("KÁROLY") == username_key("Károly")


@pytest.mark.parametrize(
    ("one", "other"),
    [("kisanna", "kisana"), ("Kovács", "Kovacs"), ("Győző", "Gyozo"), ("Győző", "Gyözö")],
)
def test_names_with_different_letters_have_different_keys(one, other):
    assert username_key(one) != username_key(other)


# --- properties -------------------------------------------------------------

any_text = st.text() | st.text(
    alphabet=st.sampled_from(HUNGARIAN + " -_1\u0301\u030b\u0308\u200bäñõКа"), max_size=80
)

valid_names = st.text(alphabet=HUNGARIAN, min_size=4, max_size=64).filter(
    lambda name: len(set(name.lower())) >= 3
)


@given(any_text)
def test_username_problems_never_raises_and_speaks_only_known_codes(raw):
    problems = username_problems(raw)
    assert isinstance(problems, list)
    assert set(problems) <= PROBLEM_CODES
    assert len(problems) == len(set(problems))


@given(any_text)
def test_an_accepted_name_is_four_to_sixty_four_hungarian_letters(raw):
    if username_problems(raw) == []:
        name = normalize(raw)
        assert set(name) <= set(HUNGARIAN)
        assert 4 <= len(name) <= 64
        assert len(set(name.lower())) >= 3


@given(valid_names)
def test_any_name_of_four_to_sixty_four_hungarian_letters_with_three_distinct_is_accepted(name):
    assert username_problems(name) == []


@given(valid_names)
def test_a_valid_name_typed_decomposed_is_accepted_and_normalised_to_it(name):
    assert username_problems(nfd(name)) == []
    assert normalize(nfd(name)) == name


@given(valid_names)
def test_the_key_ignores_case_and_decomposition(name):
    key = username_key(name)
    assert username_key(name.swapcase()) == key
    assert username_key(name.upper()) == key
    assert username_key(nfd(name)) == key


@given(
    st.sampled_from(HUNGARIAN_LOWER),
    st.sampled_from(HUNGARIAN_LOWER),
    st.integers(min_value=4, max_value=64),
    st.randoms(use_true_random=False),
)
def test_any_name_of_at_most_two_letters_is_refused_as_not_distinct(first, second, length, rnd):
    letters = [first, second, first.upper(), second.upper()]
    name = "".join(rnd.choice(letters) for _ in range(length))
    assert username_problems(name) == ["distinct"]
