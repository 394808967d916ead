"""The example portal keeps its own texts in a Flask-Babel domain of its own, ``portal``.

Hungarian is complete and the default, English is the message ids, and the
portal's texts stay apart from flask_kapu's even on flask_kapu's pages, which
wear the portal's layout.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from conftest import forget_keys
from werkzeug.datastructures import MultiDict

import example_app
from example_app import create_app
from example_app.forms import PostForm
from example_app.i18n import gettext, ngettext

APP_DIR = Path(example_app.__file__).resolve().parent
CATALOGUES = APP_DIR / "translations"
MAKEFILE = APP_DIR.parent / "Makefile"


def translations_recipe() -> list[str]:
    """The commands of ``make translations``, one a line, continuation lines joined."""
    target = MAKEFILE.read_text("utf-8").split("\ntranslations:", 1)[1].split("\n\n", 1)[0]
    return [" ".join(line.split()) for line in target.replace("\\\n", " ").splitlines()[1:]]


def makefile_keywords() -> list[str]:
    """The keywords with which ``make translations`` extracts the portal's texts."""
    [extract] = [line for line in translations_recipe() if "-F example_app/babel.cfg" in line]
    return re.findall(r"-k (\S+)", extract)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    """Every message id of the portal's code and templates, extracted afresh."""
    pot = tmp_path_factory.mktemp("pot") / "portal.pot"
    keywords = [arg for keyword in makefile_keywords() for arg in ("-k", keyword)]
    command = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg"]
    subprocess.run(
        [*command, *keywords, "-o", str(pot), "--no-location", "."],
        cwd=APP_DIR,
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


def catalog(kind: str = "po"):
    with (CATALOGUES / "hu" / "LC_MESSAGES" / f"portal.{kind}").open("rb") as handle:
        return read_po(handle) if kind == "po" else read_mo(handle)


@pytest.fixture
def app(database_url):
    forget_keys(database_url)
    application = create_app({"KAPU_DATABASE_URL": database_url, "SECRET_KEY": "i18n test"})
    yield application
    application.extensions["kapu"].deps.store.dispose()


# --- the catalogue ----------------------------------------------------------------------------


def test_make_translations_refreshes_the_portals_catalogue_too():
    extract, update, compile_ = [line for line in translations_recipe() if "example_app" in line]
    assert extract.endswith("-o example_app/translations/portal.pot example_app")
    assert "-i example_app/translations/portal.pot -d example_app/translations -D portal" in update
    assert compile_.endswith("compile -d example_app/translations -D portal")
    assert "_p" in makefile_keywords()  # the templates' helper


def test_extraction_finds_the_portals_texts_in_code_and_templates(extracted):
    assert "Residents' forum" in extracted  # views.py, lazily
    assert "Write a title." in extracted  # forms.py
    assert "Your post is published." in extracted  # a flash message
    assert "Skip to content" in extracted  # layout.html
    assert "%(num)s post" in extracted  # a plural


def test_every_portal_message_has_a_hungarian_translation(extracted):
    hungarian = catalog()
    missing = sorted(i for i in extracted if i not in hungarian or not _translated(hungarian[i]))
    fuzzy = [m.id for m in hungarian if m.id and m.fuzzy]
    assert missing == []
    assert fuzzy == []


def test_the_compiled_catalogue_matches_its_source():
    def entries(messages):
        return {
            tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id: (
                tuple(m.string) if isinstance(m.string, (list, tuple)) else m.string
            )
            for m in messages
            if m.id and _translated(m)
        }

    source = entries(catalog())
    compiled = entries(catalog("mo"))
    assert {key: compiled.get(key) for key in source} == source


def test_the_portal_domain_is_not_flask_kapus():
    """Neither catalogue can shadow the other: the portal ships no ``flask_kapu`` domain."""
    assert sorted(p.name for p in (CATALOGUES / "hu" / "LC_MESSAGES").iterdir()) == [
        "portal.mo",
        "portal.po",
    ]


# --- the texts at run time ----------------------------------------------------------------------


def test_texts_are_hungarian_by_default_and_english_on_request(app):
    with app.test_request_context("/"):
        assert gettext("Forum") == "Fórum"
        assert gettext("Taxpayer: %(name)s", name="X") == "Adózó: X"
        assert gettext("no such text") == "no such text"
    with app.test_request_context("/?lang=en"):
        assert gettext("Forum") == "Forum"
        assert gettext("Taxpayer: %(name)s", name="X") == "Taxpayer: X"


@pytest.mark.parametrize(
    ("lang", "one", "three"),
    [("hu", "1 bejegyzés", "3 bejegyzés"), ("en", "1 post", "3 posts")],
)
def test_counts_take_the_plural_of_the_language(app, lang, one, three):
    with app.test_request_context(f"/?lang={lang}"):
        assert ngettext("%(num)s post", "%(num)s posts", 1) == one
        assert ngettext("%(num)s post", "%(num)s posts", 3) == three


def test_form_labels_and_messages_follow_each_requests_language(app):
    """A form class is built once; its texts are read in the language of each request."""
    with app.test_request_context("/?lang=hu"):
        form = PostForm(formdata=MultiDict({"body": "Helló"}), meta={"csrf": False})
        assert not form.validate()
        assert str(form.title.label.text) == "Cím"
        assert [str(e) for e in form.title.errors] == ["Adjon címet a bejegyzésnek."]
    with app.test_request_context("/?lang=en"):
        form = PostForm(formdata=MultiDict({"body": "Hello"}), meta={"csrf": False})
        assert not form.validate()
        assert str(form.title.label.text) == "Title"
        assert [str(e) for e in form.title.errors] == ["Write a title."]


@pytest.mark.parametrize(
    ("lang", "portal_text", "kapu_text"),
    [
        ("hu", "Ügyfélvonal: +36 1 555 0100 (demó), hétköznap 8:00–16:00", "Belépés"),
        ("en", "Help line: +36 1 555 0100 (demo), weekdays 8:00–16:00", "Log in to Ügyfélkapu"),
    ],
)
def test_flask_kapus_pages_show_the_portals_layout_in_the_portals_words(
    app, lang, portal_text, kapu_text
):
    """flask_kapu's pages bring their own ``_``; the layout around them keeps the portal's."""
    page = app.test_client().get(f"/kapu/login?lang={lang}").get_data(as_text=True)
    assert portal_text in page  # the portal's footer, domain "portal"
    assert kapu_text in page  # the login form, domain "flask_kapu"


def test_a_link_inside_a_translated_sentence_stays_a_link_and_the_rest_is_escaped(app):
    page = app.test_client().get("/?lang=en").get_data(as_text=True)
    assert '<a href="/kapu/register">Choose a username</a>, give your e-mail' in page
    assert "Your town&#39;s business, from home — safely." in page  # _p in a template
    assert '<span class="service-title">Residents&#39; forum</span>' in page  # a lazy text
