"""One-time codes: generation, typed-input normalisation and keyed hashes.

Activation and reset codes are 10 characters of 0-9A-Z minus I L O U, typed
in any case and with spaces or hyphens; e-mail step-up codes are 6 digits.
"""

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flask_kapu import codes
from flask_kapu.codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CodeHasher,
    format_code,
    generate_code,
    generate_digits,
    normalize_code,
    normalize_digits,
)

EXPECTED_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

alphabet_codes = st.text(alphabet=CODE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)


# --- the alphabet and generation --------------------------------------------


def test_the_code_alphabet_is_digits_and_capitals_without_i_l_o_u():
    assert EXPECTED_ALPHABET == CODE_ALPHABET
    assert len(set(CODE_ALPHABET)) == 32
    assert not set("ILOU") & set(CODE_ALPHABET)


def test_a_code_is_ten_characters_long():
    assert CODE_LENGTH == 10


def test_generated_codes_are_ten_characters_of_the_alphabet():
    for _ in range(200):
        code = generate_code()
        assert len(code) == 10
        assert set(code) <= set(CODE_ALPHABET)


def test_generate_code_honours_a_requested_length():
    assert len(generate_code(16)) == 16


def test_generated_codes_are_not_repeated():
    assert len({generate_code() for _ in range(200)}) == 200


# --- normalize_code ---------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "ABCDEFGHJK",
        "abcdefghjk",
        "AbCdE-fGhJk",
        "ABCDE-FGHJK",
        "ABCDE FGHJK",
        " abcde fghjk ",
        "A-B-C-D-E-F-G-H-J-K",
        "ab cd-ef gh-jk",
    ],
)
def test_a_typed_code_is_accepted_in_any_case_with_spaces_and_hyphens(typed):
    assert normalize_code(typed) == "ABCDEFGHJK"


@pytest.mark.parametrize("typed", ["", "ABCDEFGHJ", "ABCDEFGHJKM", "ABCDE-FGHJ", "-----"])
def test_a_code_of_the_wrong_length_is_refused(typed):
    assert normalize_code(typed) is None


@pytest.mark.parametrize("letter", ["I", "L", "O", "U", "i", "l", "o", "u"])
def test_a_code_with_i_l_o_or_u_is_refused(letter):
    assert normalize_code(f"ABCDEFGHJ{letter}") is None


@pytest.mark.parametrize(
    "typed",
    [
        "١٢٣٤٥٦٧٨٩٠",  # Arabic-Indic digits
        "０１２３４５６７８９",  # full-width digits
        "ABCDEFGHJ²",  # a superscript two
        "ＡBCDEFGHJK",  # a full-width A
        "ABCDEFGHJÁ",
    ],
)
def test_a_code_with_non_ascii_digits_or_letters_is_refused(typed):
    assert normalize_code(typed) is None


@pytest.mark.parametrize("typed", ["ABCDE_FGHJK", "ABCDE.FGHJK", "ABCDE/FGHJK", "ABCDE\u200bFGHJK"])
def test_a_code_with_other_separators_is_refused(typed):
    assert normalize_code(typed) is None


@pytest.mark.parametrize("typed", ["ABCDEFGHß", "ſſſſſſſſſſ", "ABCDEFGHﬀ"])
def test_letters_outside_ascii_are_refused_even_when_their_capitals_are_code_letters(typed):
    assert normalize_code(typed) is None


def test_huge_code_input_is_refused():
    assert normalize_code("A" * 1_000_000) is None
    assert normalize_code(" " * 1_000_000 + "ABCDEFGHJK") is None


def test_normalize_code_honours_a_requested_length():
    assert normalize_code("abcd-efgh", length=8) == "ABCDEFGH"
    assert normalize_code("abcd-efgh") is None


# --- format_code --------------------------------------------------------------


def test_format_code_groups_a_code_in_fives_with_a_hyphen():
    assert format_code("ABCDEFGHJK") == "ABCDE-FGHJK"


def test_format_code_leaves_a_short_last_group():
    assert format_code("ABCDEFG") == "ABCDE-FG"
    assert format_code("ABCDE") == "ABCDE"


def test_a_formatted_code_is_a_single_whitespace_free_token():
    formatted = format_code(generate_code())
    assert formatted.split() == [formatted]


def test_a_generated_code_survives_format_and_normalize():
    for _ in range(100):
        code = generate_code()
        assert normalize_code(format_code(code)) == code
        assert normalize_code(format_code(code).lower()) == code


@given(alphabet_codes)
def test_normalize_code_inverts_format_code(code):
    assert normalize_code(format_code(code)) == code


@given(alphabet_codes)
def test_normalize_code_accepts_the_lower_case_spaced_form(code):
    typed = " ".join(format_code(code).lower().split("-"))
    assert normalize_code(typed) == code


@given(st.text())
def test_normalize_code_never_raises_and_yields_a_canonical_code_or_none(raw):
    code = normalize_code(raw)
    if code is not None:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(CODE_ALPHABET)
        assert normalize_code(code) == code


# --- digits -------------------------------------------------------------------


def test_generated_digits_have_the_requested_length():
    for _ in range(200):
        digits = generate_digits(6)
        assert len(digits) == 6
        assert set(digits) <= set(string.digits)
    assert len(generate_digits(3)) == 3


@pytest.mark.parametrize(
    ("drawn", "expected"), [(0, "000000"), (42, "000042"), (999_999, "999999")]
)
def test_generated_digits_keep_leading_zeros(monkeypatch, drawn, expected):
    asked = []

    def randbelow(bound):
        asked.append(bound)
        return drawn

    monkeypatch.setattr(codes.secrets, "randbelow", randbelow)
    assert generate_digits(6) == expected
    assert asked == [1_000_000]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("123456", "123456"), ("012345", "012345"), (" 123 456 ", "123456"), ("123-456", "123456")],
)
def test_six_ascii_digits_are_accepted(typed, expected):
    assert normalize_digits(typed, 6) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345",
        "1234567",
        "12345a",
        "abcdef",
        "١٢٣٤٥٦",  # Arabic-Indic digits
        "۱۲۳۴۵۶",  # Persian digits
        "１２３４５６",  # full-width digits
        "12345²",  # superscript two
        "12345\u200b6",
    ],
)
def test_anything_but_exactly_six_ascii_digits_is_refused(typed):
    assert normalize_digits(typed, 6) is None


def test_three_digit_hints_keep_their_leading_zero():
    assert normalize_digits("042", 3) == "042"


def test_huge_digit_input_is_refused():
    assert normalize_digits("1" * 1_000_000, 6) is None


@given(st.text())
def test_normalize_digits_never_raises_and_yields_ascii_digits_or_none(raw):
    digits = normalize_digits(raw, 6)
    if digits is not None:
        assert len(digits) == 6
        assert set(digits) <= set(string.digits)


# --- CodeHasher -------------------------------------------------------------


@pytest.fixture
def hasher():
    return CodeHasher(["current secret"])


def test_the_same_code_and_purpose_give_the_same_hash(hasher):
    assert hasher.hash("activation", "ABCDEFGHJK") == hasher.hash("activation", "ABCDEFGHJK")
    assert CodeHasher(["current secret"]).hash("activation", "ABCDEFGHJK") == hasher.hash(
        "activation", "ABCDEFGHJK"
    )


def test_the_purpose_changes_the_hash(hasher):
    assert hasher.hash("activation", "ABCDEFGHJK") != hasher.hash("reset", "ABCDEFGHJK")


def test_the_code_changes_the_hash(hasher):
    assert hasher.hash("activation", "ABCDEFGHJK") != hasher.hash("activation", "ABCDEFGHJM")


def test_the_secret_key_changes_the_hash(hasher):
    other = CodeHasher(["another secret"])
    assert hasher.hash("activation", "ABCDEFGHJK") != other.hash("activation", "ABCDEFGHJK")


def test_a_hash_is_a_sha256_hex_digest_that_does_not_show_the_code(hasher):
    digest = hasher.hash("activation", "ABCDEFGHJK")
    assert len(digest) == 64
    assert set(digest) <= set(string.hexdigits.lower())
    assert "ABCDEFGHJK" not in digest


def test_a_string_key_and_its_utf8_bytes_are_the_same_key():
    assert CodeHasher(["titkos kulcs"]).hash("p", "C") == CodeHasher([b"titkos kulcs"]).hash(
        "p", "C"
    )


def test_a_new_key_hashes_and_every_key_is_a_candidate():
    rotated = CodeHasher(["new key", "old key"])
    candidates = rotated.candidates("activation", "ABCDEFGHJK")
    assert candidates == [
        CodeHasher(["new key"]).hash("activation", "ABCDEFGHJK"),
        CodeHasher(["old key"]).hash("activation", "ABCDEFGHJK"),
    ]
    assert rotated.hash("activation", "ABCDEFGHJK") == candidates[0]


def test_a_code_hashed_under_a_retired_key_is_still_found_after_rotation():
    stored = CodeHasher(["old key"]).hash("activation", "ABCDEFGHJK")
    rotated = CodeHasher(["new key", "old key"])
    assert rotated.hash("activation", "ABCDEFGHJK") != stored
    assert stored in rotated.candidates("activation", "ABCDEFGHJK")
    assert stored not in rotated.candidates("reset", "ABCDEFGHJK")


@pytest.mark.parametrize("keys", [[], ()])
def test_a_hasher_without_keys_is_refused(keys):
    with pytest.raises(ValueError, match="key"):
        CodeHasher(keys)
