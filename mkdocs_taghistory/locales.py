"""Dates in a site's language: month and weekday names and the date order of a locale, by
Babel's CLDR data. English, the default, is written by :mod:`.dates` alone ("March 18th"):
Babel is imported only when another locale is set, so English builds pay nothing for it.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from mkdocs_taghistory.dates import DEFAULT_DATE_FORMAT

if TYPE_CHECKING:
    from babel import Locale

# The strftime codes that write words or a day a locale writes its own way; the rest are
# numbers (%d, %m, %Y, ...), which strftime writes alike in every language.
# Its source, compiled at first use (the package docstring says why).
_NAMED_CODE = r"%(?P<flag>[-_0^#]?)(?P<letter>[aAbBhO])"


class LocaleError(ValueError):
    """A locale Babel does not know (or Babel is not installed)."""


def is_english(name: str | None) -> bool:
    """True for no locale, or any English one: the plugin's own style ("March 18th")."""
    if name is None:
        return True
    # en, or en_ / en- and a region or script: printable, as no locale's name holds a control.
    return name.lower() == "en" or (name[:3].lower() in ("en_", "en-") and name.isprintable())


def check_locale(name: str) -> str:
    """``name`` as Babel spells it (``de``, ``fr_CA``, ``zh_Hant_TW``), ``-`` taken for ``_``.

    Raises:
        LocaleError: when Babel is missing or does not know it, naming the nearest it knows.
    """
    if is_english(name):
        return name
    return str(_locale(name))


def site_locale(language: object) -> str | None:
    """The locale a site's language (``theme.language``, Sphinx's ``language``) gives dates:
    None (English) for English, none, or one Babel does not know (Material's ``custom``)."""
    if not isinstance(language, str) or is_english(language):
        return None
    try:
        return check_locale(language)
    except LocaleError:
        return None


def localized_date(moment: datetime, date_format: str, locale: str, *, with_year: bool) -> str:
    """``moment`` (already in the site's zone) in ``locale``'s words.

    The default format becomes the locale's own day-and-month ("18. März", "18 mars"), with
    its year when ``with_year`` ("18. März 2024"); in a format of the site's, ``%B``/``%b``
    and ``%A``/``%a`` are the locale's month and weekday names, ``%O`` the plain day (ordinal
    suffixes are English), and every other code is strftime's.
    """
    from babel.dates import (  # noqa: PLC0415 (Babel only for a locale that needs it)
        format_date,
        format_skeleton,
        get_day_names,
        get_month_names,
    )

    babel_locale = _locale(locale)
    if date_format == DEFAULT_DATE_FORMAT:
        if with_year:
            # CLDR's long date: every locale has it, where the "yMMMMd" skeleton is missing
            # from older data (Babel 2.13's German and French), whose nearest is abbreviated.
            return format_date(moment.date(), "long", locale=babel_locale)
        return format_skeleton("MMMMd", moment, tzinfo=moment.tzinfo, locale=babel_locale)
    words = {
        "B": get_month_names("wide", locale=babel_locale)[moment.month],
        "b": get_month_names("abbreviated", locale=babel_locale)[moment.month],
        "h": get_month_names("abbreviated", locale=babel_locale)[moment.month],
        "A": get_day_names("wide", locale=babel_locale)[moment.weekday()],
        "a": get_day_names("abbreviated", locale=babel_locale)[moment.weekday()],
        "O": str(moment.day),
    }
    parts = []
    # "%%" first, so that a literal percent sign before a letter stays as written.
    for part in date_format.split("%%"):
        named = re.sub(_NAMED_CODE, lambda code: _escaped(_flagged(words, code)), part)
        parts.append(moment.strftime(named))
    return "%".join(parts)


def _flagged(words: dict[str, str], code: re.Match[str]) -> str:
    """A code's word, upper-cased for strftime's ``^`` flag (``%^B``: "MÄRZ")."""
    word = words[code["letter"]]
    return word.upper() if code["flag"] == "^" else word


def _escaped(text: str) -> str:
    """A locale's word put into a strftime format: its own ``%`` kept as text."""
    return text.replace("%", "%%")


@cache
def _locale(name: str) -> Locale:
    try:
        from babel import Locale, UnknownLocaleError  # noqa: PLC0415 (only for a locale)
        from babel.localedata import locale_identifiers  # noqa: PLC0415
    except ModuleNotFoundError:
        raise LocaleError(f"locale {name!r} needs Babel: pip install 'babel>=2.13'") from None
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        from mkdocs_taghistory.suggest import did_you_mean  # noqa: PLC0415

        hint = did_you_mean(name.replace("-", "_"), locale_identifiers())
        raise LocaleError(
            f"unknown locale {name!r}{hint or '; use a language code such as de, fr or pt_BR'}"
        ) from None
