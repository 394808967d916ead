"""Hungarian and English are complete, and the request picks its language."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

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
