"""Bad input to the JSON API and the HTML forms: always a clear 4xx, never a 5xx, no rows left.

API.md, "Details the tables leave open" / Status codes: malformed JSON is 400
``invalid_json``; wrong or missing fields are 422 ``invalid_input`` with
``errors``; a body over ``MAX_CONTENT_LENGTH`` (1 MiB) is 413; a missing or
wrong CSRF token is 400 ``csrf_failed``. DESIGN.md: bad input never causes a
500 and never leaves half-written state.
"""

from __future__ import annotations

import copy
import dataclasses
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import STRONG_PASSWORD, csrf_from, submit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_kapu.state import KapuState
from flask_kapu.store import Account, AuditEvent, OneTimeCode

PREFIX = "/kapu/api"
PROBLEM_JSON = "application/problem+json"

KIB = 1024
MIB = 1024 * KIB
NEARLY_ONE_MIB = 900 * 1000  # a string that still fits, with its JSON, under 1 MiB


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """A JSON endpoint, a body it accepts as well-formed, and its required string fields."""

    path: str
    body: dict[str, Any]
    strings: tuple[str, ...]
    needs_login: bool = False
    silent: bool = False  # answers the same whatever well-typed input it gets (no enumeration)

    def __str__(self) -> str:
        return self.path


PERSON = {"family_name": "Nagy", "given_name": "Péter", "birth_date": "1980-01-31"}

ENDPOINTS = [
    Endpoint(
        "/register",
        {
            "username": "NagyPeter",
            "email": "peter@example.hu",
            "accept_terms": True,
            "person": PERSON,
        },
        ("username", "email"),
    ),
    Endpoint(
        "/register/eid/check",
        {"document_id": "123456AB", "registration_code": "K7P2M9Q4T1X"},
        ("document_id", "registration_code"),
    ),
    Endpoint(
        "/register/eid",
        {"token": None, "username": "KissAnna", "email": "kiss@example.hu", "accept_terms": True},
        ("token", "username", "email"),
    ),
    Endpoint(
        "/activate",
        {"username": "KisAnna", "code": "ABCDE-FGHJK", "new_password": STRONG_PASSWORD},
        ("username", "code", "new_password"),
    ),
    Endpoint(
        "/login",
        {"username": "KisAnna", "password": STRONG_PASSWORD},
        ("username", "password"),
    ),
    Endpoint(
        "/password/forgot",
        {"username": "KisAnna", "email": "anna@example.hu"},
        ("username", "email"),
        silent=True,
    ),
    Endpoint(
        "/password/reset",
        {"username": "KisAnna", "code": "ABCDE-FGHJK", "new_password": STRONG_PASSWORD},
        ("username", "code", "new_password"),
    ),
    Endpoint(
        "/password/change",
        {"current_password": STRONG_PASSWORD, "new_password": "Nyari-Zapor-2026"},
        ("current_password", "new_password"),
        needs_login=True,
    ),
]

# Every required field of every endpoint, strings and the rest.
REQUIRED_FIELDS = [
    pytest.param(endpoint, field, id=f"{endpoint.path}:{field}")
    for endpoint in ENDPOINTS
    for field in endpoint.body
]
STRING_FIELDS = [
    pytest.param(endpoint, field, id=f"{endpoint.path}:{field}")
    for endpoint in ENDPOINTS
    for field in endpoint.strings
]

WRONG_TYPES = {
    "number": 42,
    "float": 4.2,
    "boolean": True,
    "list": ["text"],
    "null": None,
    "nested object": {"nested": "object"},
}

MALFORMED_JSON = {
    "truncated": b'{"username": "KisAnna", ',
    "single quotes": b"{'username': 'KisAnna'}",
    "trailing comma": b'{"username": "KisAnna",}',
    "bare words": b"username=KisAnna",
    "unquoted key": b"{username: 1}",
}

INVALID_UTF8 = {
    "lone continuation byte": b'{"username": "\x80"}',
    "truncated sequence": b'{"username": "Kis\xc3"}',
    "latin-1 text": b'{"username": "Kov\xe1cs"}',
    "overlong encoding": b'{"username": "\xc0\xaf"}',
    "bytes 0xff 0xfe": b'{"username": "\xff\xfe"}',
}

NOT_AN_OBJECT = {
    "array": b"[]",
    "array of fields": b'["username", "password"]',
    "string": b'"KisAnna"',
    "number": b"42",
    "true": b"true",
    "null": b"null",
}

CONTROL_CHARACTERS = {
    "NUL": "\x00",
    "escape": "\x1b",
    "newline": "\n",
    "DEL": "\x7f",
    "C1 control": "\x85",
    "lone surrogate": "\ud800",
}


# --- helpers ----------------------------------------------------------------------------


def row_counts(state: KapuState) -> dict[str, int]:
    with state.deps.store.transaction() as repo:
        return {model.__name__: repo.count(model) for model in (Account, OneTimeCode, AuditEvent)}


@contextmanager
def no_rows_written(state: KapuState, *models: str) -> Iterator[None]:
    """Assert that the block leaves the row counts of ``models`` (default: all) as they were."""
    before = row_counts(state)
    yield
    after = row_counts(state)
    names = models or tuple(before)
    assert {n: after[n] for n in names} == {n: before[n] for n in names}


def post_raw(api: Any, path: str, body: bytes) -> Any:
    """POST raw bytes as JSON, with a valid CSRF token."""
    if api.csrf is None:
        api.session()
    return api.client.post(
        PREFIX + path,
        data=body,
        headers={"X-CSRFToken": api.csrf, "Content-Type": "application/json"},
    )


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem document with this status and code."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return assert_problem_shape(response, code)


def assert_problem_shape(response: Any, code: str | None = None) -> dict[str, Any]:
    assert response.mimetype == PROBLEM_JSON
    body: dict[str, Any] = response.get_json()
    assert body["status"] == response.status_code
    for key in ("code", "title", "detail"):
        assert isinstance(body[key], str)
        assert body[key].strip()
    if code is not None:
        assert body["code"] == code
    return body


def assert_client_error(response: Any) -> None:
    assert 400 <= response.status_code < 500, (
        response.status_code,
        response.get_data(as_text=True)[:500],
    )


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def prepare(request: pytest.FixtureRequest, api: Any) -> Any:
    """Ready the session for ``endpoint``: log in if it needs it; its valid body.

    ``/register/eid`` gets a real card-check token, so that only the field a
    test breaks is wrong.
    """

    def _prepare(endpoint: Endpoint) -> dict[str, Any]:
        body = copy.deepcopy(endpoint.body)
        if endpoint.needs_login:
            username = request.getfixturevalue("active")
            response = api.post("/login", {"username": username, "password": STRONG_PASSWORD})
            assert response.status_code == 200, response.get_json()
        if "token" in body:
            check = api.post(
                "/register/eid/check",
                {"document_id": "123456AB", "registration_code": "K7P2M9Q4T1X"},
            )
            assert check.status_code == 200, check.get_json()
            body["token"] = check.get_json()["token"]
        api.session()
        return body

    return _prepare


# --- the table's bodies are well-formed ---------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_the_bodies_these_tests_start_from_pass_input_validation(endpoint, prepare, api):
    body = prepare(endpoint)
    response = api.post(endpoint.path, body)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.get_json()["code"] not in {"invalid_json", "invalid_input"}


# --- malformed bodies: 400 invalid_json -----------------------------------------------


@pytest.mark.parametrize("raw", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_malformed_json_is_400_invalid_json(endpoint, raw, prepare, api, state):
    prepare(endpoint)
    with no_rows_written(state):
        response = post_raw(api, endpoint.path, raw)
    assert_problem(response, 400, "invalid_json")


@pytest.mark.parametrize("raw", INVALID_UTF8.values(), ids=INVALID_UTF8.keys())
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_invalid_utf8_is_400_invalid_json(endpoint, raw, prepare, api, state):
    prepare(endpoint)
    with no_rows_written(state):
        response = post_raw(api, endpoint.path, raw)
    assert_problem(response, 400, "invalid_json")


# --- well-formed JSON of the wrong shape: 422 invalid_input ---------------------------


@pytest.mark.parametrize("raw", NOT_AN_OBJECT.values(), ids=NOT_AN_OBJECT.keys())
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_json_that_is_not_an_object_is_422_invalid_input(endpoint, raw, prepare, api, state):
    prepare(endpoint)
    with no_rows_written(state):
        response = post_raw(api, endpoint.path, raw)
    body = assert_problem(response, 422, "invalid_input")
    assert body["errors"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_an_empty_object_is_422_naming_every_missing_string_field(endpoint, prepare, api, state):
    prepare(endpoint)
    with no_rows_written(state):
        response = api.post(endpoint.path, {})
    body = assert_problem(response, 422, "invalid_input")
    assert set(endpoint.strings) <= set(body["errors"])


@pytest.mark.parametrize(("endpoint", "field"), REQUIRED_FIELDS)
def test_a_missing_field_is_422_naming_that_field(endpoint, field, prepare, api, state):
    body = prepare(endpoint)
    del body[field]
    with no_rows_written(state):
        response = api.post(endpoint.path, body)
    problem = assert_problem(response, 422, "invalid_input")
    assert set(problem["errors"]) == {field}
    assert all(isinstance(m, str) and m for m in problem["errors"][field])


@pytest.mark.parametrize("wrong", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
@pytest.mark.parametrize(("endpoint", "field"), STRING_FIELDS)
def test_a_string_field_of_another_type_is_422_naming_that_field(
    endpoint, field, wrong, prepare, api, state
):
    body = prepare(endpoint)
    body[field] = wrong
    with no_rows_written(state):
        response = api.post(endpoint.path, body)
    problem = assert_problem(response, 422, "invalid_input")
    assert set(problem["errors"]) == {field}


NOT_TRUE = {
    **{name: value for name, value in WRONG_TYPES.items() if value is not True},
    "false": False,
    "string yes": "yes",
    "string true": "true",
    "one": 1,
}


@pytest.mark.parametrize("wrong", NOT_TRUE.values(), ids=NOT_TRUE.keys())
@pytest.mark.parametrize("path", ["/register", "/register/eid"])
def test_accept_terms_must_be_json_true(path, wrong, prepare, api, state):
    body = prepare(next(e for e in ENDPOINTS if e.path == path))
    body["accept_terms"] = wrong
    with no_rows_written(state):
        response = api.post(path, body)
    problem = assert_problem(response, 422, "invalid_input")
    assert set(problem["errors"]) == {"accept_terms"}


@pytest.mark.parametrize(
    "wrong",
    [42, ["Nagy", "Péter"], None, "Nagy Péter", True],
    ids=["number", "list", "null", "string", "boolean"],
)
def test_register_person_must_be_an_object(wrong, prepare, api, state):
    body = prepare(ENDPOINTS[0])
    body["person"] = wrong
    with no_rows_written(state):
        response = api.post("/register", body)
    problem = assert_problem(response, 422, "invalid_input")
    assert set(problem["errors"]) == {"person"}


@pytest.mark.parametrize("wrong", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
@pytest.mark.parametrize("field", ["family_name", "given_name", "birth_date"])
def test_register_person_fields_of_another_type_are_422_naming_the_field(
    field, wrong, prepare, api, state
):
    body = prepare(ENDPOINTS[0])
    body["person"] = {**PERSON, field: wrong}
    with no_rows_written(state):
        response = api.post("/register", body)
    problem = assert_problem(response, 422, "invalid_input")
    assert set(problem["errors"]) == {f"person.{field}"}


# --- size: 422 for an over-long field, 413 for an over-large body ------------------------


@pytest.mark.parametrize(("endpoint", "field"), STRING_FIELDS)
def test_a_nearly_one_mebibyte_string_is_422_naming_that_field(
    endpoint, field, prepare, api, state
):
    body = prepare(endpoint)
    body[field] = "a" * NEARLY_ONE_MIB
    with no_rows_written(state):
        response = api.post(endpoint.path, body)
    problem = assert_problem(response, 422, "invalid_input")
    assert set(problem["errors"]) == {field}


def test_an_over_long_person_field_is_422_naming_that_field(prepare, api, state):
    body = prepare(ENDPOINTS[0])
    body["person"] = {**PERSON, "family_name": "N" * NEARLY_ONE_MIB}
    with no_rows_written(state):
        response = api.post("/register", body)
    problem = assert_problem(response, 422, "invalid_input")
    assert set(problem["errors"]) == {"person.family_name"}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_ten_megabyte_body_is_413_problem_json(endpoint, prepare, api, state):
    body = prepare(endpoint)
    body[endpoint.strings[0]] = "a" * (10 * 1000 * 1000)
    with no_rows_written(state):
        response = api.post(endpoint.path, body)
    assert_problem(response, 413, "payload_too_large")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_body_just_over_one_mebibyte_is_413(endpoint, prepare, api, state):
    prepare(endpoint)
    raw = b'{"padding": "' + b"a" * MIB + b'"}'
    with no_rows_written(state):
        response = post_raw(api, endpoint.path, raw)
    assert_problem(response, 413, "payload_too_large")


# --- control characters: a 4xx, never a 5xx ---------------------------------------------


# Endpoints that look a username up: a NUL there must not reach the database.
NUL_LOOKUPS = {"/activate", "/login", "/password/forgot", "/password/reset"}
CONTROL_CHARACTER_CASES = [
    pytest.param(endpoint, field, char, id=f"{endpoint.path}:{field}-{name}")
    for endpoint in ENDPOINTS
    for field in endpoint.strings
    for name, char in CONTROL_CHARACTERS.items()
]


def post_with_character(api: Any, endpoint: Endpoint, body: dict[str, Any], field: str, char: str):
    value = body[field]
    return api.post(endpoint.path, {**body, field: value[:3] + char + value[3:]})


def assert_refused_or_silent(endpoint: Endpoint, response: Any) -> None:
    """A 4xx problem document; ``/password/forgot`` may also give its usual 202 ``{}``."""
    if endpoint.silent and response.status_code == 202:
        assert response.get_json() == {}
    else:
        assert_client_error(response)
        assert_problem_shape(response)


@pytest.mark.parametrize(("endpoint", "field", "char"), CONTROL_CHARACTER_CASES)
def test_control_characters_in_a_field_are_a_client_error(
    endpoint, field, char, prepare, api, state
):
    """A control character anywhere in a field is refused, never a server error.

    Such a request is a well-formed attempt (a wrong password, a wrong code),
    so an audit row of the failure may be written; no account and no code is.
    ``/password/forgot`` answers its usual 202 ``{}``: it tells nobody anything.
    """
    body = prepare(endpoint)
    with no_rows_written(state, "Account", "OneTimeCode"):
        response = post_with_character(api, endpoint, body, field, char)
    assert_refused_or_silent(endpoint, response)


@pytest.mark.parametrize("path", sorted(NUL_LOOKUPS))
def test_a_nul_in_a_looked_up_username_is_a_client_error_on_every_database(
    path, prepare, api, state
):
    endpoint = next(e for e in ENDPOINTS if e.path == path)
    body = prepare(endpoint)
    with no_rows_written(state, "Account", "OneTimeCode"):
        response = post_with_character(api, endpoint, body, "username", "\x00")
    assert_refused_or_silent(endpoint, response)


def test_a_nul_in_the_login_form_username_is_a_4xx_page_on_every_database(client, state):
    with no_rows_written(state, "Account", "OneTimeCode"):
        response = submit(client, "/kapu/login", {**LOGIN_FORM, "username": "Kis\x00Anna"})
    assert_client_error_page(response)


@pytest.mark.parametrize("char", CONTROL_CHARACTERS.values(), ids=CONTROL_CHARACTERS.keys())
def test_control_characters_in_a_person_field_are_422(char, prepare, api, state):
    body = prepare(ENDPOINTS[0])
    body["person"] = {**PERSON, "family_name": "Na" + char + "gy"}
    with no_rows_written(state):
        response = api.post("/register", body)
    problem = assert_problem(response, 422, "invalid_input")
    assert set(problem["errors"]) == {"person.family_name"}


# --- CSRF: 400 csrf_failed -------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-CSRFToken": ""}, {"X-CSRFToken": "not-the-token"}],
    ids=["missing", "empty", "wrong"],
)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_post_without_the_csrf_token_is_400_csrf_failed(endpoint, headers, prepare, api, state):
    body = prepare(endpoint)
    with no_rows_written(state):
        response = api.client.post(PREFIX + endpoint.path, json=body, headers=headers)
    assert_problem(response, 400, "csrf_failed")


# --- random input: always a 4xx ---------------------------------------------------------

any_text = st.one_of(
    st.text(max_size=300),
    st.text(st.characters(exclude_categories=()), max_size=80),  # surrogates, controls
    st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")),
    st.sampled_from(["", " ", "KisAnna", "kisanna", "KisAnna\x00", "Kis Anna", "a" * 5000]),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(username=any_text, secret=any_text)
def test_random_text_to_login_is_always_a_client_error(api, state, username, secret):
    state.limiter.reset()  # let every example reach the service, not the per-IP limit
    response = api.post("/login", {"username": username, "password": secret})
    assert_client_error(response)
    assert_problem_shape(response)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    username=any_text,
    email=any_text.filter(lambda text: "@" not in text),  # so no example is a valid sign-up
    family_name=any_text,
)
def test_random_text_to_register_is_always_a_client_error(api, state, username, email, family_name):
    state.limiter.reset()
    with no_rows_written(state):
        response = api.post(
            "/register",
            {
                "username": username,
                "email": email,
                "accept_terms": True,
                "person": {**PERSON, "family_name": family_name},
            },
        )
    assert_client_error(response)
    assert_problem_shape(response)


# --- HTML forms: a 4xx page, never a 500 ------------------------------------------------

LOGIN_FORM = {"username": "KisAnna", "password": STRONG_PASSWORD}
REGISTER_FORM = {
    "username": "NagyPeter",
    "email": "peter@example.hu",
    "family_name": "Nagy",
    "given_name": "Péter",
    "birth_date": "1980-01-31",
    "accept_terms": "y",
}
FORMS = [
    pytest.param("/kapu/login", LOGIN_FORM, field, id=f"login:{field}") for field in LOGIN_FORM
] + [
    pytest.param("/kapu/register", REGISTER_FORM, field, id=f"register:{field}")
    for field in REGISTER_FORM
    if field != "accept_terms"
]
HTML_CONTROL_CHARACTERS = {k: v for k, v in CONTROL_CHARACTERS.items() if k != "lone surrogate"}


def assert_client_error_page(response: Any) -> None:
    assert_client_error(response)
    assert response.mimetype == "text/html"


@pytest.mark.parametrize(("path", "form", "field"), FORMS)
def test_a_huge_form_value_gives_a_4xx_page(path, form, field, client, state):
    with no_rows_written(state):
        response = submit(client, path, {**form, field: "a" * NEARLY_ONE_MIB})
    assert_client_error_page(response)


@pytest.mark.parametrize("path", ["/kapu/login", "/kapu/register"])
def test_a_ten_megabyte_form_is_413(path, client, state):
    with no_rows_written(state):
        response = submit(client, path, {"username": "a" * (10 * 1000 * 1000)})
    assert response.status_code == 413


HTML_CONTROL_CHARACTER_CASES = [
    pytest.param(path, form, field, char, id=f"{case.id}-{name}")
    for case in FORMS
    for path, form, field in [case.values]
    for name, char in HTML_CONTROL_CHARACTERS.items()
    if not (path == "/kapu/login" and field == "username" and char == "\x00")
]


@pytest.mark.parametrize(("path", "form", "field", "char"), HTML_CONTROL_CHARACTER_CASES)
def test_control_characters_in_a_form_give_a_4xx_page(path, form, field, char, client, state):
    value = form[field]
    with no_rows_written(state, "Account", "OneTimeCode"):
        response = submit(client, path, {**form, field: value[:3] + char + value[3:]})
    assert_client_error_page(response)


@pytest.mark.parametrize("path", ["/kapu/login", "/kapu/register"])
def test_invalid_utf8_in_a_form_gives_a_4xx_page(path, client, state):
    token = csrf_from(client.get(path).get_data(as_text=True))
    raw = f"csrf_token={token}&username=Kis%FF%FEAnna%C3&password=x%00y&email=%E1%80".encode()
    with no_rows_written(state, "Account", "OneTimeCode"):
        response = client.post(path, data=raw, content_type="application/x-www-form-urlencoded")
    assert_client_error_page(response)


@pytest.mark.parametrize("path", ["/kapu/login", "/kapu/register"])
def test_a_form_without_its_csrf_token_is_400(path, client, state):
    form = LOGIN_FORM if path.endswith("login") else REGISTER_FORM
    with no_rows_written(state):
        response = client.post(path, data=form)
    assert response.status_code == 400
    assert response.mimetype == "text/html"


# --- file uploads: 415, before any form reads a field ------------------------------------

FILE_FORMS = [
    "/kapu/login",
    "/kapu/register",
    "/kapu/register/eid",
    "/kapu/activate",
    "/kapu/password/forgot",
    "/kapu/password/reset",
]
MULTIPART = "multipart/form-data"
ENGLISH = {"Accept-Language": "en"}


def a_file() -> tuple[io.BytesIO, str]:
    return io.BytesIO(b"KisAnna\n"), "hostname"


def assert_files_refused_page(response: Any) -> None:
    assert response.status_code == 415, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    assert "This form takes no files" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", FILE_FORMS)
def test_a_file_in_a_form_without_a_csrf_token_is_a_415_page(path, client, state):
    """What ``curl -F 'username=@/etc/hostname'`` sends: refused before the form reads it."""
    with no_rows_written(state):
        response = client.post(
            path, data={"username": a_file()}, content_type=MULTIPART, headers=ENGLISH
        )
    assert_files_refused_page(response)


@pytest.mark.parametrize("path", FILE_FORMS)
def test_a_file_beside_valid_form_fields_is_a_415_page(path, client, state):
    token = csrf_from(client.get(path).get_data(as_text=True))
    data = {"csrf_token": token, **LOGIN_FORM, **REGISTER_FORM, "username": a_file()}
    with no_rows_written(state):
        response = client.post(path, data=data, content_type=MULTIPART, headers=ENGLISH)
    assert_files_refused_page(response)


def test_a_multipart_form_of_text_fields_still_logs_in(client, active):
    token = csrf_from(client.get("/kapu/login").get_data(as_text=True))
    data = {"csrf_token": token, "username": active, "password": STRONG_PASSWORD}
    response = client.post("/kapu/login", data=data, content_type=MULTIPART)
    assert response.status_code == 302


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_file_upload_to_the_api_is_415_files_not_accepted(endpoint, prepare, api, state):
    body = prepare(endpoint)
    data = {name: value for name, value in body.items() if isinstance(value, str)}
    data[endpoint.strings[0]] = a_file()
    with no_rows_written(state):
        response = api.client.post(
            PREFIX + endpoint.path,
            data=data,
            content_type=MULTIPART,
            headers={"X-CSRFToken": api.csrf, **ENGLISH},
        )
    problem = assert_problem(response, 415, "files_not_accepted")
    assert "This form takes no files" in problem["detail"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_file_upload_to_the_api_without_a_csrf_token_is_400_csrf_failed(
    endpoint, prepare, api, state
):
    prepare(endpoint)
    with no_rows_written(state):
        response = api.client.post(
            PREFIX + endpoint.path, data={endpoint.strings[0]: a_file()}, content_type=MULTIPART
        )
    assert_problem(response, 400, "csrf_failed")
