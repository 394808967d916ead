"""The portal's texts in Hungarian and English, and how dates and money are written.

The language is the one flask_kapu picked for the request (``?lang=``, then
the remembered choice, then the browser's, then Hungarian), read through
Flask-Babel, so the portal's pages and flask_kapu's pages always agree.
Message ids are English; :data:`HU` holds the Hungarian texts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, request, url_for
from flask_babel import format_date, format_datetime, get_locale
from markupsafe import Markup

from .hu import HU

LANGUAGES = {"hu": "Magyar", "en": "English"}


def language() -> str:
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "hu"


def t(text: str, **values: Any) -> str:
    """``text`` in the request's language; ``%(name)s`` placeholders filled from ``values``."""
    translated = text if language() == "en" else HU.get(text, text)
    return translated % values if values else translated


def tm(text: str, **values: Any) -> Markup:
    """Like :func:`t` for a sentence with links in it: ``values`` are escaped unless Markup."""
    translated = text if language() == "en" else HU.get(text, text)
    return Markup.escape(translated) % values


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
        t=t, tm=tm, link=link, lang=language, lang_url=lang_url, languages=LANGUAGES
    )
    app.jinja_env.filters.update(money=money, day=day, moment=moment)
