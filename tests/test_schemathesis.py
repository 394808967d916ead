"""Schemathesis against the served OpenAPI document: every operation, thousands of cases.

The document at ``/kapu/api/openapi.json`` is loaded from the app in-process
(``schemathesis.openapi.from_wsgi``) and every operation in it gets generated
requests, schema-valid ones and schema-breaking ones, sent through the Flask
test client. Each answer must not be a server error, and must match the
document: a documented status code, its content type and its body schema; an
error is a problem document whose ``status`` is the HTTP status, and a 429 says
when to retry. A schema-breaking request must be refused with a 4xx.

Every example starts from a fresh client in one of these sessions:

- ``anonymous``: no login;
- ``password``: logged in (``ugyfelkapu``), no second factor enrolled;
- ``ugyfelkapu``: logged in with the password only, TOTP and e-mail enrolled;
- ``plusz``: stepped up with TOTP just now, TOTP and e-mail enrolled;
- ``pending``: the password was right, the login waits for its second factor.

The CSRF token of ``GET /session`` goes into ``X-CSRFToken`` unless the example
keeps the header schemathesis made up (then the answer is 400 ``csrf_failed``).
Some examples are "helped": the account's real username, password, TOTP code and
factor id replace the generated ones, so the success answers are checked too.

SQLite runs a few thousand cases; PostgreSQL (``KAPU_TEST_DATABASE_URL``) fewer.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from flask_kapu.views.openapi import document

PREFIX = "/kapu/api"
DOCUMENT = f"{PREFIX}/openapi.json"


def _operations() -> list[Any]:
    """(method, path, mode) of every operation; schema-breaking ones where a request can be."""
    cases = []
    for path, item in document(PREFIX)["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            breakable = (
                "parameters" in item or "requestBody" in operation or "security" in operation
            )
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if mode.is_positive or breakable:
                    name = f"{method.upper()} {path} [{mode}]"
                    cases.append(pytest.param(method.upper(), path, mode, id=name))
    return cases


OPERATIONS = _operations()

PERSON = {"family_name": "Nagy", "given_name": "Péter", "birth_date": "1980-01-31"}
CARD = ("123456AB", "K7P2M9Q4T1X")  # DemoRegistry's first card

# (schema-valid, schema-breaking) examples per operation.
EXAMPLES = {"sqlite": (100, 40), "postgresql": (15, 8)}

SESSIONS = ("anonymous", "password", "ugyfelkapu", "plusz", "pending")
CSRF = ("valid", "valid", "valid", "generated")


def problem_status_is_the_http_status(ctx: Any, response: Any, case: Any) -> None:
    """API.md: an error answer is a problem document naming its own status and a code."""
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            raise AssertionError("the error answer is not JSON") from None
        assert problem["status"] == response.status_code, problem
        assert problem["code"], problem


def too_many_requests_say_when_to_retry(ctx: Any, response: Any, case: Any) -> None:
    """API.md: 429 answers carry ``Retry-After`` in seconds."""
    if response.status_code == 429:
        (value,) = response.headers.get("retry-after", [""])
        assert value.isdigit(), f"Retry-After: {value!r}"


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    problem_status_is_the_http_status,
    too_many_requests_say_when_to_retry,
]

CONFIG = schemathesis.Config.from_dict(
    # A schema-breaking request is refused with any 4xx (413 included), never accepted.
    {"checks": {"negative_data_rejection": {"expected-statuses": ["4xx"]}}}
)

# The largest id a ``kapu_factor.id`` column holds on every database (PostgreSQL: int4).
MAX_FACTOR_ID = 2**31 - 1


def database(app: Any) -> str:
    url = str(app.config["KAPU_DATABASE_URL"])
    return "postgresql" if url.startswith("postgresql") else "sqlite"


class Arrange:
    """Put a fresh test client into one of ``SESSIONS``; what the helped examples need."""

    def __init__(self, app: Any, kapu_account: Any, kapu_login: Any, kapu_totp_code: Any) -> None:
        self.app = app
        self.kapu_account = kapu_account
        self.kapu_login = kapu_login
        self.kapu_totp_code = kapu_totp_code
        self.registered = 0

    def __call__(self, who: str) -> tuple[Any, Any, str]:
        client = self.app.test_client()
        account = None
        if who != "anonymous":
            account = self.kapu_account(methods=() if who == "password" else ("totp", "email"))
        if who in {"password", "ugyfelkapu", "plusz"}:
            level = "plusz" if who == "plusz" else "ugyfelkapu"
            self.kapu_login(client, account, level=level)
        token = self.token(client)
        if who == "pending":
            response = client.post(
                f"{PREFIX}/login",
                json={"username": account.username, "password": account.password},
                headers={"X-CSRFToken": token},
            )
            assert response.get_json()["pending"] == "second_factor", response.get_json()
            token = response.get_json()["csrf_token"]
        return client, account, token

    @staticmethod
    def token(client: Any) -> str:
        response = client.get(f"{PREFIX}/session")
        assert response.status_code == 200
        return str(response.get_json()["csrf_token"])

    def help(self, case: schemathesis.Case, account: Any) -> None:
        """Put real values where the case has fields of those names: secrets, a new name."""
        if isinstance(case.body, dict):
            body = dict(case.body)
            for name, value in self.real_values(case.path, account).items():
                if name in body:
                    body[name] = value
            case.body = body
        if "factor_id" in (case.path_parameters or {}) and account is not None:
            with self.app.app_context():
                state = self.app.extensions["kapu"]
                with state.deps.store.transaction() as repo:
                    factors = repo.factors(account.account.id)
            if factors:
                case.path_parameters = {"factor_id": factors[0].id}

    def real_values(self, path: str, account: Any) -> dict[str, Any]:
        real: dict[str, Any] = {}
        if account is not None:
            real.update(
                username=account.username,
                password=account.password,
                current_password=account.password,
            )
            if account.totp_secret is not None:
                real["code"] = self.kapu_totp_code(account)
        if path.endswith(("/register", "/register/eid")):
            self.registered += 1
            name = "Regisztralt" + letters(self.registered)
            real.update(username=name, email=f"{name.lower()}@example.hu", accept_terms=True)
            real["person"] = PERSON
            with self.app.app_context():
                real["token"] = self.app.extensions["kapu"].eid_tokens.issue(PERSON, CARD[0])
        if path.endswith("/register/eid/check"):
            real.update(document_id=CARD[0], registration_code=CARD[1])
        return real


def letters(number: int) -> str:
    """1 -> "a", 2 -> "b", ... 27 -> "aa": parts of usernames (letters only)."""
    text = ""
    while number:
        number, rest = divmod(number - 1, 26)
        text = "abcdefghijklmnopqrstuvwxyz"[rest] + text
    return text


@pytest.fixture
def arrange(app, kapu_account, kapu_login, kapu_totp_code):
    return Arrange(app, kapu_account, kapu_login, kapu_totp_code)


@pytest.mark.parametrize(("method", "path", "mode"), OPERATIONS)
def test_every_operation_answers_as_documented(app, state, arrange, method, path, mode):
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app, config=CONFIG)
    operation = schema[path][method]
    positive, negative = EXAMPLES[database(app)]
    checks = CHECKS if mode.is_positive else [*CHECKS, negative_data_rejection]
    sent = []

    @settings(
        max_examples=positive if mode.is_positive else negative,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        who=st.sampled_from(SESSIONS),
        csrf=st.sampled_from(CSRF),
        helped=st.booleans(),
    )
    def run(case: schemathesis.Case, who: str, csrf: str, helped: bool) -> None:
        state.limiter.reset()  # every example reaches the view, not the per-IP limit
        client, account, token = arrange(who)
        if helped and mode.is_positive:
            arrange.help(case, account)
        if csrf == "valid":
            case.headers = {**(case.headers or {}), "X-CSRFToken": token}
        response = case.call(session=client)
        sent.append(response.status_code)
        case.validate_response(response, checks=checks)

    run()
    print(f"{method} {path} [{mode}]: {len(sent)} cases, statuses {sorted(set(sent))}")


# --- bugs the generated cases found ------------------------------------------------------


@pytest.fixture
def stepped_up(app, client, kapu_account, kapu_login):
    """A client logged in at ``plusz`` (fresh), with TOTP and e-mail enrolled; its CSRF token."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a server error is a 500 answer, as in production
    kapu_login(client, kapu_account(methods=("totp", "email")), level="plusz")
    return client, Arrange.token(client)


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize("factor_id", ["-1", "x"], ids=["negative", "not-a-number"])
def test_a_factor_id_the_route_refuses_is_a_problem_document(stepped_up, method, factor_id):
    client, token = stepped_up
    response = client.open(
        f"{PREFIX}/factors/{factor_id}",
        method=method,
        json={"label": "Telefon"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize("factor_id", [MAX_FACTOR_ID + 1, 2**63, 2**70], ids=str)
def test_a_factor_id_beyond_the_id_column_is_404(stepped_up, method, factor_id):
    client, token = stepped_up
    response = client.open(
        f"{PREFIX}/factors/{factor_id}",
        method=method,
        json={"label": "Telefon"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
