"""Languages: the report, plots and terminal lines in Vietnamese or English.

English is written in the code (``_("trucks cleared per day")``); other languages come from
gettext catalogs compiled from ``gatesim/locale/<lang>/LC_MESSAGES/gatesim.po`` and shipped
in the wheel as ``.mo`` files. Numbers and dates follow the language's conventions through
Babel (Vietnamese: ``1.234,5`` and ``22/08/2024``). The language is chosen per call with
:func:`using` — a context variable, so nothing global changes and threads keep their own.

Scenario items may carry a display name per language (``label: {vi: …, en: …}``):
:func:`display` picks the label in the current language, else English, else the code name.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import gettext
import math
from collections.abc import Iterator, Mapping
from pathlib import Path

from babel import dates as babel_dates
from babel import numbers as babel_numbers

LANGUAGES = ("en", "vi")
"""The languages gatesim speaks; English is the default and the source language."""
DOMAIN = "gatesim"
LOCALE_DIR = Path(__file__).with_name("locale")

_LOCALE = {"en": "en_GB", "vi": "vi"}  # day-month order for English too, as in Lạng Sơn
_DATE = {"en": "d MMM yyyy", "vi": "dd/MM/yyyy"}
_language: contextvars.ContextVar[str] = contextvars.ContextVar("gatesim_language",
                                                                 default="en")


def check(lang: str) -> str:
    """``lang`` when gatesim speaks it; otherwise a ValueError naming the choices."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    return lang


@contextlib.contextmanager
def using(lang: str) -> Iterator[None]:
    """Speak ``lang`` inside this block (the report, plots and lines built within it)."""
    token = _language.set(check(lang))
    try:
        yield
    finally:
        _language.reset(token)


def language() -> str:
    """The current language code."""
    return _language.get()


@functools.cache
def _catalog(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang])


def _(message: str) -> str:
    """``message`` (English) in the current language."""
    return _catalog(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language."""
    return _catalog(language()).ngettext(singular, plural, n)


def display(name: str, labels: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The display name of a scenario item: its label in the current language, else its
    English label, else the code name itself."""
    label = (labels or {}).get(name) or {}
    return label.get(language()) or label.get("en") or name


def number(x: float | int | None, digits: int | None = None) -> str:
    """A number in the current language's format; ``digits`` after the decimal sign, or by
    default about three significant figures (whole numbers from 100 on). '–' when missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if digits is None:
        a = abs(x)
        digits = 0 if a >= 100 else 1 if a >= 10 else 2
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return babel_numbers.format_decimal(x, format=pattern, locale=_LOCALE[language()])


def significant(x: float | None, digits: int = 3) -> str:
    """A number to ``digits`` significant figures (whole from 10**digits on, with grouping),
    in the current language's format; '—' when missing."""
    if x is None or not math.isfinite(x):
        return "—"
    if x == 0 or abs(x) >= 10 ** digits:
        return number(x, 0)
    return babel_numbers.format_decimal(x, format="@" + "#" * (digits - 1),
                                        locale=_LOCALE[language()])


def percent(share: float | None, digits: int = 0) -> str:
    """A share (0.25) as a percentage in the current language ('25 %' / '25%')."""
    if share is None or not math.isfinite(share):
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + " %"
    return babel_numbers.format_percent(share, format=pattern, locale=_LOCALE[language()])


def date(d: dt.date) -> str:
    """A date as the current language writes it (22 Aug 2024 / 22/08/2024)."""
    return babel_dates.format_date(d, format=_DATE[language()], locale=_LOCALE[language()])


def datetime(t: dt.datetime) -> str:
    """A date and time (to the minute) as the current language writes it
    (22 Aug 2024 20:00 / 22/08/2024 20:00)."""
    return babel_dates.format_datetime(t, format=_DATE[language()] + " HH:mm",
                                       locale=_LOCALE[language()])
