"""What users type, cleaned and validated once for every adapter.

The console, the command line and the Discord cog all pass user text and options through
these functions (directly, or through ``NewsService``), so the same input gets the same
answer everywhere.

- ``clean_text``: any text from outside (Discord options, a terminal, command-line
  arguments, standard input) made valid Unicode: invalid UTF-8 and lone surrogates become
  U+FFFD, control characters become spaces.
- ``parse_story_count``: ``/news latest``'s count, a whole number from 1 to ``MAX_LATEST``.
- ``parse_digest_date``: a digest date written ``YYYY-MM-DD`` (full-width digits too).

Each validator raises ``InvalidOption``, which names the option and the value, so the
adapter can answer in technyan's voice (persona key ``InvalidOption.persona_key``) or, on
the command line, with ``str(error)``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

__all__ = [
    "DEFAULT_LATEST",
    "MAX_LATEST",
    "InvalidOption",
    "clean_text",
    "parse_digest_date",
    "parse_story_count",
]

#: Stories ``latest`` shows when no count is given.
DEFAULT_LATEST = 5
#: The most stories ``latest`` shows at once: five pages of five embeds on Discord.
MAX_LATEST = 25
#: Characters of an option's value worth reading or showing back; longer text is refused
#: unread and shown cut.
_MAX_OPTION_CHARACTERS = 40

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Nine digits at most: a count is small, and int() refuses strings past 4,300 digits.
_INTEGER_RE = re.compile(r"[+-]?\d{1,9}")


class InvalidOption(ValueError):
    """A command option whose value cannot be used.

    ``option`` is the option's name (``count``, ``date``), ``value`` the text as given
    (cleaned, at most 40 characters), ``persona_key`` technyan's line for it (its
    placeholders: ``value``, and ``low``/``high`` for a range). ``str(error)`` is the
    plain English message of the command line, e.g. ``expected a number from 1 to 25,
    got '0'``."""

    def __init__(self, option: str, value: str, message: str, persona_key: str) -> None:
        self.option = option
        self.value = value[:_MAX_OPTION_CHARACTERS]
        self.persona_key = persona_key
        super().__init__(message)


def clean_text(value: str | bytes) -> str:
    """``value`` as valid Unicode text: bytes are decoded as UTF-8 with invalid sequences
    replaced by U+FFFD, lone surrogates (from ``surrogateescape``d arguments or a JSON
    ``\\ud800``) become U+FFFD, and control characters other than tab and newline become
    spaces. Never raises."""
    if isinstance(value, bytes):
        text = value.decode("utf-8", errors="replace")
    else:
        text = _SURROGATE_RE.sub("\ufffd", value)
    return _CONTROL_RE.sub(" ", text)


def parse_story_count(value: int | str | None, *, default: int = DEFAULT_LATEST) -> int:
    """The number of stories for ``latest``: ``value`` as a whole number from 1 to
    ``MAX_LATEST`` (text may use full-width digits), ``default`` when ``value`` is None or
    blank. Raises ``InvalidOption`` (persona key ``invalid_count``) otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):  # bool is an int; True is not a count
        raise _invalid_count(str(value))
    if isinstance(value, int):
        count = value
    else:
        text = unicodedata.normalize("NFKC", clean_text(value)).strip()
        if not _INTEGER_RE.fullmatch(text):
            raise _invalid_count(value)
        count = int(text)
    if not 1 <= count <= MAX_LATEST:
        raise _invalid_count(str(value))
    return count


def _invalid_count(value: str) -> InvalidOption:
    return InvalidOption(
        "count",
        value,
        f"expected a number from 1 to {MAX_LATEST}, got {value[:_MAX_OPTION_CHARACTERS]!r}",
        "invalid_count",
    )


#: Years a digest date or an ``--as-of`` day may fall in (inclusive).
DIGEST_YEARS = (1900, 9998)


def parse_digest_date(value: str) -> dt.date:
    """A digest date written ``YYYY-MM-DD`` (``2026-02-08``; full-width digits and dashes
    as a Japanese keyboard types them are read too), in a year of DIGEST_YEARS. Raises
    ``InvalidOption`` (persona key ``invalid_date``) for any other form, an impossible day
    (``2026-02-30``) or a year outside them (``0001-01-01``)."""
    text = unicodedata.normalize("NFKC", clean_text(value[: _MAX_OPTION_CHARACTERS * 2])).strip()
    text = text.replace("\u2212", "-").replace("\u2010", "-").replace("\u2011", "-")
    match = _ISO_DATE_RE.fullmatch(text)
    if match:
        try:
            day = dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
        else:
            # A window around the day, in any time zone, must stay within what dates hold.
            if DIGEST_YEARS[0] <= day.year <= DIGEST_YEARS[1]:
                return day
    raise InvalidOption(
        "date",
        value,
        f"expected a date YYYY-MM-DD in {DIGEST_YEARS[0]}-{DIGEST_YEARS[1]}, got {value[:40]!r}",
        "invalid_date",
    )
