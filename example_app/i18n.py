"""The portal's texts and how it writes dates and money.

The portal keeps its texts in a Flask-Babel domain of its own, ``portal``
(``translations/<lang>/LC_MESSAGES/portal.po``), beside flask_kapu's
``flask_kapu`` domain: each side's catalogue stays its own, and neither can
shadow the other's messages. Message ids are English, so English needs no
catalogue; Hungarian is the default. The language is the one flask_kapu picked
for the request (``?lang=``, then the remembered choice, then the browser's,
then Hungarian), so the portal's pages and flask_kapu's pages always agree.

Templates call ``_p`` rather than ``_``: flask_kapu's pages extend the portal's
``layout.html`` and bring their own ``_``, which would not know the portal's texts.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask, request, url_for
from flask_babel import Domain, format_date, format_datetime, get_locale
from flask_babel.speaklater import LazyString
from markupsafe import Markup

LANGUAGES = {"hu": "Magyar", "en": "English"}

domain = Domain(
    translation_directories=str(Path(__file__).parent / "translations"), domain="portal"
)
gettext = domain.gettext
ngettext = domain.ngettext


class LazyText(LazyString):
    """A text translated when shown, and escaped like any text: Flask-Babel's own lazy
    string would pass into a template as ready-made markup."""

    def __html__(self) -> str:
        return str(Markup.escape(str(self)))


def lazy_gettext(text: str, **values: Any) -> LazyText:
    """For texts defined once at import (form labels, tables of choices)."""
    return LazyText(gettext, text, **values)


def template_text(text: str, **values: Any) -> Markup:
    """``_p`` in templates: ``text`` translated and escaped, then ``%(name)s`` placeholders
    filled from ``values``, which are escaped unless Markup (so a sentence can hold a link)."""
    translated = Markup.escape(gettext(text))
    return translated % values if values else translated


def language() -> str:
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "hu"


def link(href: str, text: str) -> Markup:
    return Markup('<a href="%s">%s</a>') % (href, text)


def lang_url(code: str) -> str:
    """This page in another language (other query parameters kept)."""
    args = {**request.args.to_dict(), "lang": code}
    if request.endpoint and request.method == "GET":
        return url_for(request.endpoint, **(request.view_args or {}), **args)
    return url_for("portal.home", lang=code)


def money(amount: int) -> str:
    if language() == "en":
        return f"HUF {amount:,}"
    return f"{amount:,} Ft".replace(",", "\N{NO-BREAK SPACE}")


def day(value: date | str) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return str(format_date(value, "d MMMM yyyy" if language() == "en" else "yyyy. MMMM d."))


def moment(value: datetime) -> str:
    pattern = "d MMMM yyyy, HH:mm" if language() == "en" else "yyyy. MMMM d. HH:mm"
    return str(format_datetime(value, pattern))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        _p=template_text, link=link, lang=language, lang_url=lang_url, languages=LANGUAGES
    )
    app.jinja_env.filters.update(money=money, day=day, moment=moment)
