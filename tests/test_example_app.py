"""The example portal is an ordinary Flask app: its own pages, tables, texts and commands.

Every test runs on SQLite, and again on PostgreSQL when KAPU_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import ast
import re
import shlex
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import (
    STRONG_PASSWORD,
    Api,
    code_in,
    csrf_from,
    empty_tables,
    forget_keys,
    submit,
)
from flask.cli import ScriptInfo
from flask.cli import cli as flask_cli
from sqlalchemy import create_engine, delete, inspect, text
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

import example_app
import flask_kapu
from example_app import DEMO_EMAIL, DEMO_USERNAME, create_all, create_app, seed_demo_account
from example_app import commands as demo_commands
from example_app import db as portal_db
from example_app.models import Mandate, Post, TaxReturn
from flask_kapu import DemoRegistry, KapuConfigError
from flask_kapu.mail import OutboxMailer

APP_DIR = Path(example_app.__file__).resolve().parent
FAST_HASHING = {
    "KAPU_ARGON2_TIME_COST": 1,
    "KAPU_ARGON2_MEMORY_COST": 8,
    "KAPU_ARGON2_PARALLELISM": 1,
}
SECRET = {"SECRET_KEY": "example app test secret"}
MAKEFILE = APP_DIR.parent / "Makefile"


@pytest.fixture
def app(database_url):
    """The example app on the test database, every table empty (also the plugin's host app)."""
    forget_keys(database_url)
    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url, **SECRET, **FAST_HASHING})
    state = application.extensions["kapu"]
    with application.app_context():
        create_all()
        empty_portal_tables()
    empty_tables(state)
    state.limiter.reset()
    yield application
    state.notifier.wait()
    state.deps.store.dispose()
    portal_db.dispose(application)


def empty_portal_tables() -> None:
    """No portal rows, and ids from 1 again: a filing number is its return's id."""
    session = portal_db.db.session
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(model.__tablename__ for model in (Post, TaxReturn, Mandate))
        session.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    else:  # SQLite numbers from the largest id in the table
        for model in (Post, TaxReturn, Mandate):
            session.execute(delete(model))
    session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- an ordinary Flask app --------------------------------------------------------------------


def test_flask_finds_the_app_factory(monkeypatch, database_url):
    """`flask --app example_app run` loads create_app() like any factory app."""
    monkeypatch.setenv("SQLALCHEMY_DATABASE_URI", database_url)
    monkeypatch.setenv("SECRET_KEY", SECRET["SECRET_KEY"])
    forget_keys(database_url)
    loaded = ScriptInfo(app_import_path="example_app").load_app()
    assert "portal" in loaded.blueprints
    assert "kapu" in loaded.extensions
    loaded.extensions["kapu"].deps.store.dispose()
    portal_db.dispose(loaded)


def test_outside_debug_mode_the_built_in_secret_key_is_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)

    with pytest.raises(KapuConfigError) as caught:
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'portal.sqlite3'}"})

    assert caught.value.key == "SECRET_KEY"
    assert "environment" in str(caught.value)
    assert "--debug" in str(caught.value)


def test_make_demo_runs_in_debug_mode_with_the_built_in_key(monkeypatch, tmp_path):
    """The Makefile's demo command line, run as `make demo` runs it (serving stubbed)."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    served = []
    monkeypatch.setattr(demo_commands, "run_simple", lambda *a, **kw: served.append(a[2]))
    recipe = MAKEFILE.read_text("utf-8").split("\ndemo:", 1)[1].splitlines()[1]
    args = shlex.split(recipe)[1:]  # after $(BIN)/flask

    result = CliRunner().invoke(flask_cli, args)

    assert result.exit_code == 0, result.output
    [demo] = served
    assert demo.debug
    assert demo.config["SECRET_KEY"].startswith("dev only")
    demo.extensions["kapu"].deps.store.dispose()
    portal_db.dispose(demo)


def test_the_portal_uses_only_flask_kapus_public_api():
    for source in APP_DIR.glob("*.py"):
        tree = ast.parse(source.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flask_kapu"):
                assert node.module == "flask_kapu", f"{source.name} imports {node.module}"
                names = {alias.name for alias in node.names}
                assert names <= set(flask_kapu.__all__), f"{source.name}: {names}"
            if isinstance(node, ast.Import):
                assert not [a for a in node.names if a.name.startswith("flask_kapu.")]


def test_init_db_creates_both_sets_of_tables_and_can_run_again(app):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "The portal's tables are ready." in result.output
    with app.app_context():
        tables = set(inspect(portal_db.db.engine).get_table_names())
    assert {"kapu_account", "portal_post", "portal_tax_return", "portal_mandate"} <= tables


def test_on_a_database_with_only_flask_kapus_tables_the_portal_makes_its_own(tmp_path):
    bare = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bare.sqlite3'}", **SECRET}
    )
    result = bare.test_cli_runner().invoke(args=["kapu", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    try:
        assert "Még nincs bejegyzés." in text_of(bare.test_client().get("/forum"))
    finally:
        bare.extensions["kapu"].deps.store.dispose()
        portal_db.dispose(bare)


# --- the portal's own tables: one database, foreign keys to the account ----------------------

#: The portal's tables, and what becomes of a row when its account is deleted: a forum post
#: stays (without its account), a tax return and a mandate go with the account.
ON_DELETE = {"portal_post": "SET NULL", "portal_tax_return": "CASCADE", "portal_mandate": "CASCADE"}


def rows(database_url: str, query: str) -> list[Row]:
    """What the database itself holds, read past both the portal and flask_kapu."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query)))
    finally:
        engine.dispose()


def file_everything(client, citizen) -> None:
    """A forum post, a tax return and a mandate, through the portal's pages."""
    posted = submit(client, "/forum", {"title": "Padok", "body": "Több pad kellene."})
    assert posted.status_code == 302
    tax_return = {"income": "5 000 000", "withheld": "750 000", "donation": "", "declare": "y"}
    assert submit(client, "/tax-return", tax_return).status_code == 302
    until = (date.today() + timedelta(days=30)).isoformat()
    mandate = {"agent": "Kiss Anna", "scope": "tax", "valid_until": until}
    assert submit(client, "/mandates", mandate).status_code == 302


def test_each_portal_table_points_at_the_account_by_a_foreign_key(app, database_url):
    engine = create_engine(database_url)
    try:
        schema = inspect(engine)
        for table, on_delete in ON_DELETE.items():
            [key] = schema.get_foreign_keys(table)
            assert key["constrained_columns"] == ["account_id"], table
            assert (key["referred_table"], key["referred_columns"]) == ("kapu_account", ["id"])
            assert key["options"].get("ondelete") == on_delete, table
    finally:
        engine.dispose()


def test_a_citizens_post_tax_return_and_mandate_point_at_their_account(
    app, client, kapu_account, kapu_login, database_url
):
    citizen = kapu_account("SorosSára", methods=("webauthn",))
    kapu_login(client, citizen, level="plusz", methods=("webauthn",))

    file_everything(client, citizen)

    for table in ON_DELETE:
        query = f"SELECT account_id FROM {table}"  # noqa: S608 (the portal's own table names)
        assert rows(database_url, query) == [(citizen.account.id,)]


def test_a_row_for_an_account_that_does_not_exist_is_refused(app):
    with app.app_context(), pytest.raises(IntegrityError):
        portal_db.add_post(account_id=987654, author="Senki", title="Szellem", body="Nincs fiókom.")
    with app.app_context():
        assert portal_db.recent_posts() == []


def test_when_an_account_is_deleted_its_returns_and_mandates_go_and_its_posts_stay(
    app, client, kapu_account, kapu_login, database_url
):
    citizen = kapu_account("TöröltTamás", methods=("webauthn",))
    kapu_login(client, citizen, level="plusz", methods=("webauthn",))
    file_everything(client, citizen)

    with app.extensions["kapu"].deps.store.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM kapu_account WHERE id = :id"), {"id": citizen.account.id}
        )

    assert rows(database_url, "SELECT account_id, author FROM portal_post") == [
        (None, "TöröltTamás")
    ]
    assert rows(database_url, "SELECT id FROM portal_tax_return") == []
    assert rows(database_url, "SELECT id FROM portal_mandate") == []


def test_the_portal_and_flask_kapu_keep_their_rows_in_the_one_database_of_the_environment(
    monkeypatch, database_url
):
    """`flask --app example_app` with SQLALCHEMY_DATABASE_URI set: Flask-SQLAlchemy's usual
    setting is the portal's one database, flask_kapu's accounts included."""
    monkeypatch.delenv("KAPU_DATABASE_URL", raising=False)
    monkeypatch.setenv("SQLALCHEMY_DATABASE_URI", database_url)
    monkeypatch.setenv("SECRET_KEY", SECRET["SECRET_KEY"])
    forget_keys(database_url)
    loaded = ScriptInfo(app_import_path="example_app").load_app()
    state = loaded.extensions["kapu"]
    try:
        with loaded.app_context():
            create_all()
            empty_portal_tables()
            empty_tables(state)
            seed_demo_account()
            demo_commands.seed_forum()
        state.notifier.wait()
        assert rows(database_url, "SELECT username FROM kapu_account") == [(DEMO_USERNAME,)]
        assert rows(database_url, "SELECT author FROM portal_post") == [
            (demo_commands.TOWN_HALL,),
            (demo_commands.TOWN_HALL,),
        ]
    finally:
        state.deps.store.dispose()
        portal_db.dispose(loaded)


def test_the_demo_command_seeds_the_citizen_and_serves_in_debug_mode(app, monkeypatch):
    served = []
    monkeypatch.setattr(demo_commands, "run_simple", lambda *a, **kw: served.append((a, kw)))
    result = app.test_cli_runner().invoke(args=["demo", "--port", "5123"])
    assert result.exit_code == 0, result.output
    assert "http://localhost:5123/kapu/outbox" in result.output
    [(args, options)] = served
    assert args[:3] == ("localhost", 5123, app)
    assert options["use_debugger"] is True
    assert app.debug

    client = app.test_client()
    outbox = text_of(client.get("/kapu/outbox"))
    assert DEMO_EMAIL in outbox
    assert len(re.findall(r"[0-9A-Z]{5}-[0-9A-Z]{5}", outbox)) == 1
    forum = text_of(client.get("/forum"))
    assert "Üdvözöljük a lakossági fórumon!" in forum

    again = app.test_cli_runner().invoke(args=["demo"])  # a second run: a fresh code
    assert again.exit_code == 0, again.output
    app.extensions["kapu"].notifier.wait()
    assert len(re.findall(r"[0-9A-Z]{5}-[0-9A-Z]{5}", text_of(client.get("/kapu/outbox")))) == 2
    assert text_of(client.get("/forum")).count("Üdvözöljük a lakossági fórumon!") == 1


def test_the_demo_account_waits_with_its_activation_mail_in_the_outbox(app):
    with app.app_context():
        seed_demo_account()
        seed_demo_account()  # a second run mails a fresh code instead of failing
    mailer = app.extensions["kapu"].mailer
    assert isinstance(mailer, OutboxMailer)
    app.extensions["kapu"].notifier.wait()
    assert [m["To"] for m in mailer.messages] == [DEMO_EMAIL, DEMO_EMAIL]
    with app.extensions["kapu"].deps.store.transaction() as repo:
        assert repo.account_by_username(DEMO_USERNAME).status == "pending"


def test_with_a_mail_server_in_the_environment_mail_goes_out_by_smtp(
    monkeypatch, database_url, smtp_server, mailbox
):
    _sink, port = smtp_server
    monkeypatch.setenv("MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("MAIL_PORT", str(port))
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", "ugyfelkapu@mintavaros.example")
    forget_keys(database_url)
    smtp_app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, **SECRET, **FAST_HASHING})
    smtp_app.debug = True
    state = smtp_app.extensions["kapu"]
    empty_tables(state)
    try:
        with smtp_app.app_context():
            seed_demo_account()
        [mail] = mailbox.wait_for(DEMO_EMAIL)
        assert mail["From"] == "ugyfelkapu@mintavaros.example"
        assert code_in(mail)
        client = smtp_app.test_client()
        assert client.get("/kapu/outbox").status_code == 404
        home = text_of(client.get("/"))
        assert "A levelek a beállított levelezőszerveren át mennek ki." in home
        assert "/kapu/outbox" not in home
    finally:
        state.notifier.wait()
        state.deps.store.dispose()
        portal_db.dispose(smtp_app)


# --- the home page and the developer pages ----------------------------------------------------


def test_the_home_page_says_how_to_try_each_flow(client):
    page = text_of(client.get("/"))
    assert "Mintaváros" in page
    flows = re.search(r'<ol class="flows">(.*?)</ol>', page, re.S)
    assert flows is not None
    for title in (
        "Regisztráció az okmányirodában",
        "Regisztráció az interneten",
        "Regisztráció e-személyivel",
        "Ügyfélkapu+ e-mailes kóddal",
        "Hitelesítő alkalmazás",
        "Passkey",
        "Elfelejtett jelszó",
    ):
        assert f"<strong>{title}</strong>" in flows.group(1)
    for link in ("/kapu/activate?username=Mintapolgar", "/kapu/register", "/tax-return"):
        assert f'href="{link}"' in flows.group(1)
    assert "123456AB" in flows.group(1)  # outside debug mode the card is named inline
    for decorator in ("@login_required", "@requires_plusz", '@requires_level("plusz")'):
        assert decorator in page


def test_debug_mode_links_the_outbox_and_lists_the_demo_cards(app, client):
    assert client.get("/dev/cards").status_code == 404
    assert 'class="devbar"' not in text_of(client.get("/"))

    app.debug = True
    home = text_of(client.get("/"))
    assert 'href="/kapu/outbox"' in home
    assert 'href="/dev/cards"' in home
    cards = text_of(client.get("/dev/cards"))
    for card in DemoRegistry().cards:
        assert card["document_id"] in cards
        assert card["registration_code"] in cards
        assert card["person"]["family_name"] in cards


def test_the_portal_pages_have_a_strict_csp_and_no_inline_script_or_style(client):
    for path in ("/", "/forum", "/kapu/login"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "style-src 'self'" in csp
        page = text_of(response)
        assert "<script>" not in page
        assert "style=" not in page
        assert "/static/portal.css" in page


def test_unknown_addresses_get_the_portals_page_but_the_api_keeps_its_answer(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "Ezen a címen nincs oldal." in text_of(page)
    assert "Mintaváros" in text_of(page)
    api = client.get("/kapu/api/no-such-endpoint", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert "Mintaváros" not in text_of(api)


def test_english_on_request_and_remembered(client):
    english = client.get("/?lang=en")
    assert '<html lang="en">' in text_of(english)
    assert "Your town&#39;s business, from home — safely." in text_of(english)
    assert "kapu_lang=en" in english.headers["Set-Cookie"]
    forum = text_of(client.get("/forum"))
    assert "Residents&#39; forum" in forum
    assert 'hreflang="hu"' in forum
    assert '<html lang="hu">' in text_of(client.get("/forum?lang=hu"))


# --- the forum: anyone reads, a login writes ---------------------------------------------------


def test_anyone_reads_the_forum_and_a_login_is_needed_to_post(app, client):
    with app.app_context():
        demo_commands.seed_forum()
    page = text_of(client.get("/forum"))
    assert "Lomtalanítás" in page
    assert 'href="/kapu/login?next=/forum"' in page
    refused = client.post("/forum", data={"title": "Szia", "body": "Helló"})
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/kapu/login?next=/forum")


def test_a_logged_in_citizen_posts_to_the_forum(client, kapu_account, kapu_login):
    citizen = kapu_account("FórumozóFanni")
    kapu_login(client, citizen)
    empty = submit(client, "/forum", {"title": "", "body": ""})
    assert empty.status_code == 422
    assert "Adjon címet a bejegyzésnek." in text_of(empty)
    posted = submit(client, "/forum", {"title": "Kátyú", "body": "<b>Nagy</b> kátyú."})
    assert posted.status_code == 302
    page = text_of(client.get("/forum"))
    assert "Bejegyzését közzétettük." in page
    assert "FórumozóFanni" in page
    assert "&lt;b&gt;Nagy&lt;/b&gt; kátyú." in page
    assert "1 bejegyzés" in text_of(client.get("/my-data"))


# --- my data ---------------------------------------------------------------------------------


def test_my_data_needs_a_login(client):
    response = client.get("/my-data")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/kapu/login?next=/my-data")


def test_my_data_shows_the_registry_data_of_an_eid_registrant(client, kapu_outbox):
    api = Api(client)
    card = DemoRegistry().cards[1]
    check = api.post(
        "/register/eid/check",
        {"document_id": card["document_id"], "registration_code": card["registration_code"]},
    )
    assert check.status_code == 200, check.get_json()
    registered = api.post(
        "/register/eid",
        {
            "token": check.get_json()["token"],
            "username": "SzabóBence",
            "email": "bence@example.hu",
            "accept_terms": True,
        },
    )
    assert registered.status_code == 201, registered.get_json()
    [mail] = kapu_outbox.to("bence@example.hu")
    activated = api.post(
        "/activate",
        {"username": "SzabóBence", "code": code_in(mail), "new_password": STRONG_PASSWORD},
    )
    assert activated.status_code == 200, activated.get_json()

    page = text_of(client.get("/my-data"))
    assert "A személyiadat- és lakcímnyilvántartásból" in page
    assert "az interneten, e-személyivel" in page
    for value in ("Szabó", "Bence", "1975. november 30.", "Tóth Erzsébet", "Minta tér 12."):
        assert value in page


# --- the tax return: Ügyfélkapu+ --------------------------------------------------------------


def test_the_tax_return_opens_only_at_plusz(client, kapu_account, kapu_login):
    citizen = kapu_account()
    kapu_login(client, citizen)
    refused = client.get("/tax-return")
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/kapu/plusz?next=/tax-return")
    kapu_login(client, citizen, level="plusz")
    page = client.get("/tax-return")
    assert page.status_code == 200
    assert "Személyijövedelemadó-bevallás" in text_of(page)


def test_without_a_second_factor_the_tax_return_sends_to_enrolment(
    client, kapu_account, kapu_login
):
    kapu_login(client, kapu_account(methods=()))
    refused = client.get("/tax-return")
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/kapu/security?next=/tax-return")


def test_a_tax_return_is_submitted_and_its_receipt_needs_plusz(client, kapu_account, kapu_login):
    citizen = kapu_account("AdózóAladár")
    kapu_login(client, citizen, level="plusz")
    form = text_of(client.get("/tax-return"))
    assert re.search(r'id="income"[^>]*value="\d[\d ]+"', form)  # the draft, filled in

    bad = submit(client, "/tax-return", {"income": "sok", "withheld": "0", "declare": "y"})
    assert bad.status_code == 422
    assert "Az összeget forintban, számjegyekkel adja meg." in text_of(bad)
    undeclared = submit(client, "/tax-return", {"income": "6 000 000", "withheld": "850 000"})
    assert "A beküldéshez jelölje be ezt a négyzetet." in text_of(undeclared)

    filed = submit(
        client,
        "/tax-return",
        {"income": "6 000 000", "withheld": "850.000", "donation": "mentok", "declare": "y"},
    )
    assert filed.status_code == 302
    assert filed.headers["Location"] == "/tax-return/SZJA-2025-000001"
    receipt = text_of(client.get(filed.headers["Location"]))
    assert "Bevallását befogadtuk" in receipt
    assert "6\N{NO-BREAK SPACE}000\N{NO-BREAK SPACE}000 Ft" in receipt  # income
    assert "50\N{NO-BREAK SPACE}000 Ft" in receipt  # 900 000 tax - 850 000 withheld: to pay
    assert "Mintavárosi Mentőalapítvány" in receipt

    kapu_login(client, citizen)  # a new login, password only
    refused = client.get("/tax-return/SZJA-2025-000001")
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/kapu/plusz?next=/tax-return/SZJA-2025-000001")

    kapu_login(client, kapu_account("MásikMárta"), level="plusz")
    assert client.get("/tax-return/SZJA-2025-000001").status_code == 404
    assert client.get("/tax-return/nonsense").status_code == 404


# --- mandates: only a passkey ------------------------------------------------------------------


def test_mandates_need_a_passkey(client, kapu_account, kapu_login):
    with_app = kapu_account("AppAndrás", methods=("totp",))
    kapu_login(client, with_app, level="plusz", methods=("totp",))
    refused = client.get("/mandates")
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/kapu/security?next=/mandates")

    with_passkey = kapu_account("KulcsosKároly", methods=("totp", "webauthn"))
    kapu_login(client, with_passkey, level="plusz", methods=("totp",))
    refused = client.get("/mandates")
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/kapu/plusz?next=/mandates")

    kapu_login(client, with_passkey, level="plusz", methods=("webauthn",))
    assert "Még senkit sem hatalmazott meg." in text_of(client.get("/mandates"))


def test_a_mandate_is_recorded_and_revoked(client, kapu_account, kapu_login):
    kapu_login(client, kapu_account(methods=("webauthn",)), level="plusz", methods=("webauthn",))
    past = submit(
        client, "/mandates", {"agent": "Kiss Anna", "scope": "tax", "valid_until": "2001-01-01"}
    )
    assert past.status_code == 422
    assert "Mai napnál későbbi dátumot válasszon." in text_of(past)

    until = (date.today() + timedelta(days=90)).isoformat()
    recorded = submit(
        client, "/mandates", {"agent": "Kiss Anna", "scope": "tax", "valid_until": until}
    )
    assert recorded.status_code == 302
    page = text_of(client.get("/mandates"))
    assert "A meghatalmazást rögzítettük." in page
    assert "Kiss Anna" in page
    assert "Adóügyek" in page
    revoke = re.search(r'action="(/mandates/\d+/revoke)"', page)
    assert revoke is not None

    assert client.post(revoke.group(1)).status_code == 400  # no CSRF token
    token = csrf_from(page)
    assert client.post("/mandates/999999/revoke", data={"csrf_token": token}).status_code == 404
    assert client.post(revoke.group(1), data={"csrf_token": token}).status_code == 302
    assert "Kiss Anna" not in text_of(client.get("/mandates"))
