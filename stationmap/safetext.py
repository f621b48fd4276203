r"""Rules for untrusted text (station names, addresses, notes, district names), in one place.

Registers come from spreadsheets typed by many hands and, later, from workers' notes: text
that is harmless on a page can be harmful elsewhere.

* In a spreadsheet, a cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage
  return before one of them) is run as a formula by Excel and LibreOffice ("CSV injection",
  OWASP). :func:`spreadsheet_cell` writes such text as text by prefixing an apostrophe, as
  OWASP recommends; numbers are left alone, so ``-3.5`` stays a number.
* Control characters, NUL and the bidirectional overrides (which can make ``exe.txt`` read
  as ``txt.exe``) have no business in a station's name: :func:`text_problem` says why a value
  is refused, so loaders can report it with the row and field.
* A terminal runs escape sequences it is sent: :func:`for_terminal` shows them as ``\x1b``.

Examples
--------
>>> spreadsheet_cell('=HYPERLINK("http://evil.example","点我")')
'\'=HYPERLINK("http://evil.example","点我")'
>>> spreadsheet_cell("-3.5"), spreadsheet_cell(-3.5), spreadsheet_cell("爱心接力站")
('-3.5', -3.5, '爱心接力站')
>>> text_problem("爱心\u202e站")
'contains the invisible control character U+202E (RIGHT-TO-LEFT OVERRIDE)'
>>> for_terminal("站\x1b[2J")
'站\\x1b[2J'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
#: Bidirectional embedding/override/isolate characters (Trojan Source, CVE-2021-42574).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: Every character :func:`text_problem` may refuse (category Cc and the bidi controls, tab
#: excepted): one regex search clears the usual clean text in C, instead of a Python loop
#: over every character (an import of 186,100 rows checks about four million values).
_SUSPECT = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def spreadsheet_cell(value: Any) -> Any:
    """``value`` as a spreadsheet should store it: text that would run as a formula gets a
    leading apostrophe; numbers, plain numeric text and everything else pass unchanged.
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if _NUMBER.match(value.strip()):
        return value
    return "'" + value


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored as a station's or district's text, or ``None``.

    Tabs are allowed; line breaks only when ``multiline`` (an address may span lines in a
    sheet, a name may not).
    """
    if _SUSPECT.search(value) is None:
        return None
    for ch in value:
        if ch in "\n\r" and multiline:
            continue
        if ch == "\t":
            continue
        if ch in _BIDI or unicodedata.category(ch) == "Cc":
            name = unicodedata.name(ch, "CONTROL CHARACTER")
            if ch == "\x00":
                name = "NUL"
            return f"contains the invisible control character U+{ord(ch):04X} ({name})"
    return None


def for_terminal(text: str) -> str:
    r"""``text`` with control characters (escape sequences included) shown as ``\xNN``."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
