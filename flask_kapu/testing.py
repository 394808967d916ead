"""A pytest plugin for host apps: accounts, logins at a chosen level, mail, TOTP codes.

Installed with flask_kapu (entry point ``pytest11``); it needs the host's own
``app`` fixture (a Flask app with ``Kapu`` initialised and its tables
created). Then a protected view is tested in three lines::

    def test_tax_return_needs_plusz(client, kapu_account, kapu_login):
        kapu_login(client, kapu_account(), level="plusz")
        assert client.get("/tax-return").status_code == 200
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient

from . import auth
from . import session as kapu_session
from .levels import Level
from .mail import OutboxMailer
from .services import Context, Deps, sessions
from .state import KapuState
from .store import Account, AccountStatus, Factor
from .usernames import normalize, username_key

__all__ = [
    "CapturedMail",
    "TestAccount",
    "kapu_account",
    "kapu_login",
    "kapu_outbox",
    "kapu_totp_code",
    "make_account",
]

DEFAULT_PASSWORD = "Teszt-Jelszo-2026"  # noqa: S105 - the password of made-up test accounts


@dataclasses.dataclass
class TestAccount:
    """An active account made for a test, with what a test needs to act as it."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    account: Account
    password: str
    totp_secret: str | None

    @property
    def username(self) -> str:
        return self.account.username


def _state(app: Flask) -> KapuState:
    state = app.extensions.get("kapu")
    if not isinstance(state, KapuState):
        raise RuntimeError("the app fixture has no flask_kapu: call Kapu(app) in it")
    return state


def _letters(number: int) -> str:
    """1 -> "a", 2 -> "b", ... 27 -> "aa": unique names made of letters only."""
    text = ""
    while number:
        number, rest = divmod(number - 1, 26)
        text = "abcdefghijklmnopqrstuvwxyz"[rest] + text
    return text


def make_account(
    deps: Deps,
    username: str,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    methods: Iterable[str] = ("totp",),
    person: dict[str, str] | None = None,
) -> TestAccount:
    """An active account with ``methods`` enrolled, written straight to the store
    (what ``kapu_account`` does; also for tests that run the app in other processes)."""
    name = normalize(username)
    now = deps.clock()
    secret = None
    with deps.store.transaction() as repo:
        account = Account(
            username=name,
            username_key=username_key(name),
            email=email or f"{name.lower()}@example.com",
            status=AccountStatus.ACTIVE.value,
            password_hash=deps.hashing.hash(password),
            person=person,
            registered_via="office",
            language="hu",
            session_epoch=0,
            created_at=now,
            activated_at=now,
            password_changed_at=now,
        )
        if not repo.add_account(account):
            raise ValueError(f"username {name!r} is taken")
        for method in methods:
            factor = Factor(
                account_id=account.id,
                method=method,
                label=method,
                sign_count=0,
                created_at=now,
                confirmed_at=now,
            )
            if method == "totp":
                secret = deps.plusz.totp.new_secret()
                factor.secret = deps.plusz.totp.box.seal(secret)
            repo.add_factor(factor)
    return TestAccount(account=account, password=password, totp_secret=secret)


@pytest.fixture
def kapu_account(app: Flask) -> Callable[..., TestAccount]:
    """Make active accounts: ``kapu_account(username="TesztElek", methods=("totp", "email"))``."""
    counter = iter(range(1, 1_000_000))

    def make(
        username: str | None = None,
        *,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        methods: Iterable[str] = ("totp",),
        person: dict[str, str] | None = None,
    ) -> TestAccount:
        name = username or "Teszt" + _letters(next(counter))
        return make_account(
            _state(app).deps, name, email=email, password=password, methods=methods, person=person
        )

    return make


@pytest.fixture
def kapu_login(app: Flask) -> Callable[..., None]:
    """Log ``client`` in as an account at ``level`` ("ugyfelkapu" or "plusz") without HTTP.

    ``methods`` are the second factors the session has proven (default ``("totp",)``
    at ``plusz``); ``at`` when (default: the app's clock now). The login gets its
    server-side session row, like one through the login pages, live from now.
    """

    def login(
        client: FlaskClient,
        who: TestAccount | Account,
        *,
        level: str = "ugyfelkapu",
        methods: Iterable[str] | None = None,
        at: datetime | None = None,
    ) -> None:
        account = who.account if isinstance(who, TestAccount) else who
        deps = _state(app).deps
        now = deps.clock()
        when = at or now
        proven = {"password": when}
        wanted = Level.parse(level)
        if wanted is Level.PLUSZ:
            proven.update({m: when for m in (methods or ("totp",))})
        _row, token = sessions.open_session(
            deps, Context(), account, level=wanted.label, methods=proven, now=now
        )
        with app.test_request_context():  # the host's user, in an app with its own LoginManager
            user = auth.user_for(account)
            items = kapu_session.login_items(
                account, methods=proven, auth_time=when, token=token, user=user
            )
        with client.session_transaction() as sess:
            sess.clear()
            sess.update(items)

    return login


class CapturedMail:
    """The mails the app sent during a test (background ones included)."""

    def __init__(self, state: KapuState) -> None:
        self._notifier = state.notifier
        self._outbox = OutboxMailer()

    @property
    def messages(self) -> list[EmailMessage]:
        self._notifier.wait()
        return list(self._outbox.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def kapu_outbox(app: Flask) -> Iterator[CapturedMail]:
    """Catch every mail the app sends during the test, instead of its mailer."""
    state = _state(app)
    captured = CapturedMail(state)
    real = state.notifier.mailer
    state.notifier.mailer = captured._outbox
    try:
        yield captured
    finally:
        state.notifier.wait()
        state.notifier.mailer = real


@pytest.fixture
def kapu_totp_code(app: Flask) -> Callable[[TestAccount], str]:
    """The code the account's authenticator shows now (by the app's clock)."""

    def code(who: TestAccount) -> str:
        if who.totp_secret is None:
            raise ValueError("this test account has no authenticator (methods=('totp',))")
        state = _state(app)
        return state.deps.plusz.totp.current_code(who.totp_secret, state.deps.clock())

    return code
