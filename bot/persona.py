"""technyan's voice as data: loads ``bot/personas/<name>.toml`` and picks lines.

A persona file has one table per locale (``[ja]``, ``[en]``); each key maps to a list of
variants with ``str.format`` placeholders. The variant is chosen deterministically from a
seed (for example the date and the channel), so the same digest renders the same way twice.
A line about a number of things has a singular form beside it, named after CLDR's plural
category: ``latest_header_one`` is said instead of ``latest_header`` when ``count`` is 1.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from importlib import resources
from string import Formatter

__all__ = ["LOCALES", "Persona", "PersonaError", "reply_locale"]

LOCALES = ("ja", "en")


class PersonaError(Exception):
    """A persona file that is missing, malformed, or lacks a key in one of its locales."""


def reply_locale(user_locale: str | None, default: str = "en") -> str:
    """Map a Discord or CLI locale to a reply locale: ``ja`` (any ``ja-*``) → ``ja``, any
    other given locale → ``en``, none → ``default``."""
    if not user_locale:
        return default
    return "ja" if user_locale.casefold().startswith("ja") else "en"


@dataclass(frozen=True)
class Persona:
    """Lines of one character in both locales: ``lines[locale][key]`` is a tuple of
    variants."""

    name: str
    lines: dict[str, dict[str, tuple[str, ...]]]

    @classmethod
    def load(cls, name: str = "technyan") -> Persona:
        """Load the packaged persona ``name``. Raises ``PersonaError`` when the file is
        missing, not TOML, or the two locales do not define the same keys."""
        try:
            raw = resources.files("bot").joinpath("personas", f"{name}.toml").read_bytes()
            data = tomllib.loads(raw.decode("utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise PersonaError(f"persona {name!r}: {error}") from error
        lines: dict[str, dict[str, tuple[str, ...]]] = {}
        for locale in LOCALES:
            table = data.get(locale)
            if not isinstance(table, dict):
                raise PersonaError(f"persona {name!r}: missing table [{locale}]")
            lines[locale] = {}
            for key, variants in table.items():
                if isinstance(variants, str):
                    variants = [variants]
                if not variants or not all(isinstance(v, str) for v in variants):
                    raise PersonaError(f"persona {name!r}: [{locale}] {key} needs text lines")
                lines[locale][key] = tuple(variants)
        if set(lines["ja"]) != set(lines["en"]):
            missing = set(lines["ja"]) ^ set(lines["en"])
            raise PersonaError(f"persona {name!r}: keys not in both locales: {sorted(missing)}")
        return cls(name=name, lines=lines)

    def variants(self, key: str, locale: str) -> tuple[str, ...]:
        """All variants of ``key`` in ``locale`` (``ja`` or anything else → ``en``).
        Raises ``KeyError`` for an unknown key."""
        return self.lines[reply_locale(locale)][key]

    def say(self, key: str, locale: str, seed: str = "", **values: object) -> str:
        """One variant of ``key`` in ``locale``, filled with ``values``. The variant is
        ``sha256(seed)`` modulo the number of variants, so equal seeds give equal lines.
        When ``count`` is 1 and the persona has ``<key>_one``, that singular line is said.
        Placeholders the caller did not give are left as they are."""
        if values.get("count") == 1 and f"{key}_one" in self.lines[reply_locale(locale)]:
            key = f"{key}_one"
        variants = self.variants(key, locale)
        digest = hashlib.sha256(f"{key}|{seed}".encode()).digest()
        template = variants[int.from_bytes(digest[:4], "big") % len(variants)]
        names = {field for _, field, _, _ in Formatter().parse(template) if field}
        return template.format(**{name: values.get(name, "{" + name + "}") for name in names})
