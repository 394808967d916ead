"""Hungarian and English are complete, and the request picks its language."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from conftest import Api, forget_keys, make_app

from flask_kapu.i18n import event_label

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "flask_kapu" / "translations"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    """Every message id in the code and templates, extracted afresh."""
    pot = tmp_path_factory.mktemp("pot") / "flask_kapu.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "--no-location",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return {_singular(m.id) for m in read_po(handle) if m.id}


def _singular(message_id):
    return message_id[0] if isinstance(message_id, (list, tuple)) else message_id


def _translated(message) -> bool:
    if isinstance(message.string, (list, tuple)):
        return all(message.string)
    return bool(message.string)


def catalog(language: str, kind: str = "po"):
    path = TRANSLATIONS / language / "LC_MESSAGES" / f"flask_kapu.{kind}"
    with path.open("rb") as handle:
        return read_po(handle) if kind == "po" else read_mo(handle)


def test_every_message_has_a_hungarian_translation(extracted):
    hungarian = catalog("hu")
    missing = [i for i in extracted if i not in hungarian or not _translated(hungarian[i])]
    fuzzy = [m.id for m in hungarian if m.id and m.fuzzy]
    assert missing == []
    assert fuzzy == []


def test_the_english_catalogue_lists_every_message(extracted):
    english = catalog("en")
    assert [i for i in extracted if i not in english] == []


@pytest.mark.parametrize("language", ["hu", "en"])
def test_the_compiled_catalogue_matches_its_source(language):
    def entries(messages):
        # plural messages carry tuples in .po files and lists in .mo files
        return {
            tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id: (
                tuple(m.string) if isinstance(m.string, (list, tuple)) else m.string
            )
            for m in messages
            if m.id and _translated(m)
        }

    compiled = entries(catalog(language, "mo"))
    source = entries(catalog(language))
    assert {key: compiled.get(key) for key in source} == source


def test_pages_are_hungarian_by_default(client):
    page = client.get("/kapu/login").get_data(as_text=True)
    assert '<html lang="hu">' in page
    assert "Belépés" in page


def test_lang_en_switches_to_english_and_is_remembered(client):
    page = client.get("/kapu/login?lang=en")
    assert "Log in to Ügyfélkapu" in page.get_data(as_text=True)
    assert "kapu_lang=en" in page.headers["Set-Cookie"]
    again = client.get("/kapu/login").get_data(as_text=True)
    assert '<html lang="en">' in again


def test_accept_language_is_honoured_without_a_choice(client):
    page = client.get("/kapu/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in page.get_data(as_text=True)


def test_api_problems_speak_the_request_language(api):
    api.client.get("/kapu/api/session?lang=en")
    response = api.post("/login", {"username": "NincsIlyen", "password": "x"})
    assert response.get_json()["detail"].startswith("Wrong username or password")


# --- the host's own catalogues and its own Babel ------------------------------------------


def compiled_catalogue(folder: Path, language: str, messages: dict[str, str]) -> None:
    """A tiny ``flask_kapu`` catalogue, compiled, as a host ships it."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    target = folder / language / "LC_MESSAGES"
    target.mkdir(parents=True)
    catalogue = Catalog(locale=language, domain="flask_kapu")
    for message_id, text in messages.items():
        catalogue.add(message_id, text)
    with (target / "flask_kapu.mo").open("wb") as handle:
        write_mo(handle, catalogue)


@pytest.fixture
def host_translations(tmp_path):
    """The host's folder: one Hungarian message reworded, and German with one message."""
    folder = tmp_path / "translations"
    compiled_catalogue(folder, "hu", {"Log in to Ügyfélkapu": "Belépés a Mintaváros portálra"})
    compiled_catalogue(
        folder,
        "de",
        {
            "Log in to Ügyfélkapu": "Anmeldung bei Ügyfélkapu",
            "Your Ügyfélkapu activation code": "Ihr Ügyfélkapu-Aktivierungscode",
        },
    )
    return folder


@pytest.fixture
def hosted(database_url, smtp_server):
    """``hosted(**config)``: an app of the test host, closed after the test."""
    made = []

    def make(**config):
        app, _ = make_app(database_url, smtp_server[1], **config)
        made.append(app.extensions["kapu"])
        return app

    yield make
    for state in made:
        state.deps.store.dispose()


def title(app, *args, **kwargs):
    page = app.test_client().get("/kapu/login", *args, **kwargs).get_data(as_text=True)
    return page.split("<h1>", 1)[1].split("</h1>", 1)[0].strip()


@pytest.mark.parametrize(
    "setting", ["KAPU_TRANSLATION_DIRECTORIES", "BABEL_TRANSLATION_DIRECTORIES"]
)
def test_a_host_catalogue_overrides_one_hungarian_message(hosted, host_translations, setting):
    app = hosted(**{setting: str(host_translations)})
    page = app.test_client().get("/kapu/login").get_data(as_text=True)

    assert title(app) == "Belépés a Mintaváros portálra"
    assert "Elfelejtette jelszavát?" in page  # the other messages stay flask_kapu's


def test_a_host_catalogue_adds_a_language(hosted, host_translations):
    app = hosted(KAPU_TRANSLATION_DIRECTORIES=[str(host_translations)])

    assert title(app, query_string={"lang": "de"}) == "Anmeldung bei Ügyfélkapu"
    assert title(app, headers={"Accept-Language": "de-AT,de;q=0.9"}) == "Anmeldung bei Ügyfélkapu"
    german = app.test_client().get("/kapu/login?lang=de")
    assert "kapu_lang=de" in german.headers["Set-Cookie"]
    assert "Forgot your password?" in german.get_data(as_text=True)  # untranslated: English


def test_an_added_language_names_the_page_and_is_the_accounts_mail_language(
    hosted, host_translations, mailbox
):
    app = hosted(KAPU_TRANSLATION_DIRECTORIES=[str(host_translations)])
    client = app.test_client()
    page = client.get("/kapu/register?lang=de").get_data(as_text=True)
    assert '<html lang="de">' in page

    api = Api(client)
    response = api.post(
        "/register",
        {
            "username": "KisAnna",
            "email": "anna@example.hu",
            "accept_terms": True,
            "person": {"family_name": "Kiss", "given_name": "Anna", "birth_date": "1988-04-12"},
        },
    )

    assert response.status_code == 201, response.get_json()
    with app.extensions["kapu"].deps.store.reading() as repo:
        account = repo.account_by_username("KisAnna")
    assert account is not None
    assert account.language == "de"
    (mail,) = mailbox.wait_for("anna@example.hu")
    assert mail["Subject"].endswith("Ihr Ügyfélkapu-Aktivierungscode")


def test_another_app_in_the_same_process_keeps_flask_kapus_texts(hosted, host_translations):
    hosted(KAPU_TRANSLATION_DIRECTORIES=str(host_translations))
    title(hosted(KAPU_TRANSLATION_DIRECTORIES=str(host_translations)))
    plain = hosted()

    assert title(plain) == "Belépés az Ügyfélkapuba"
    assert title(plain, query_string={"lang": "de"}) == "Belépés az Ügyfélkapuba"


def test_a_host_babel_and_its_locale_selector_are_kept(database_url, smtp_server):
    from flask import Flask
    from flask_babel import Babel

    from flask_kapu import Kapu

    forget_keys(database_url)
    app = Flask("host_app")
    app.config.update(SECRET_KEY="test secret key", TESTING=True, KAPU_DATABASE_URL=database_url)
    babel = Babel(app, locale_selector=lambda: "en")
    Kapu(app)
    try:
        assert app.extensions["babel"].instance is babel
        assert title(app) == "Log in to Ügyfélkapu"
        assert title(app, query_string={"lang": "hu"}) == "Log in to Ügyfélkapu"
    finally:
        app.extensions["kapu"].deps.store.dispose()


def test_with_kapu_babel_off_the_host_sets_babel_up_itself(hosted):
    from flask_babel import Babel

    app = hosted(KAPU_BABEL=False)
    assert "babel" not in app.extensions

    Babel(app, locale_selector=lambda: "en")
    assert title(app) == "Log in to Ügyfélkapu"


def test_every_audit_event_the_services_write_has_plain_words(app):
    """The activity list shows an event by its name only when nobody gave it words."""
    sources = (Path(__file__).parent.parent / "flask_kapu" / "services").glob("*.py")
    pattern = re.compile(r'audit\(\s*repo,\s*ctx,\s*"([a-z_]+)"|event="([a-z_]+)"')
    written = {
        name
        for source in sources
        for found in pattern.findall(source.read_text("utf-8"))
        for name in found
        if name
    }
    assert len(written) > 20
    with app.test_request_context():
        unnamed = sorted(event for event in written if event_label(event) == event)
    assert unnamed == []
