"""What admins type into ``/digest subscribe`` and ``/digest edit``, validated, and whether
a digest can reach the channel they chose.

``SubscriptionForm.apply`` turns ``DigestOptions`` into a ``Subscription`` (the given
settings over a base: the defaults for a new one, the stored one for an edit) or refuses
with technyan's explanation (``Refused``), in the admin's language:

* ``time``: ``HH:MM`` or ``H:MM`` (full-width digits and colon accepted), 00:00–23:59;
* ``timezone``: an IANA name known to ``zoneinfo`` (case-insensitive);
* ``locale``: ``ja`` or ``en`` (``ja-JP``, ``en-US`` … accepted);
* ``max_items``: 1–10;
* ``categories``: names of the index's categories, comma-separated (case and width do
  not matter); ``include`` / ``exclude``: up to ``MAX_KEYWORDS`` keywords of up to
  ``KEYWORD_LENGTH`` characters; ``-`` clears a list (``parse_list``);
* ``role_id`` / ``no_role``; ``publish``: announcement channels only;
* the Discord adapter's ``ChannelCheck``: a missing permission is named (in the admin's
  language, with where to grant it), as is a locked thread, a forum requiring tags,
  @everyone as the role or a role nobody may mention.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import re
import unicodedata
import zoneinfo

from bot.admin import ChannelCheck, DigestOptions
from bot.digest_notices import permission_names
from bot.persona import Persona
from bot.service import NewsService
from bot.state import Subscription
from bot.text import normalize

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "KEYWORD_LENGTH",
    "LIST_SEPARATORS",
    "MAX_ITEMS_RANGE",
    "MAX_KEYWORDS",
    "Refused",
    "SubscriptionForm",
    "digest_locale",
    "parse_list",
    "parse_time",
    "resolve_timezone",
]

MAX_ITEMS_RANGE = (1, 10)
DEFAULT_MAX_ITEMS = 5
#: Keywords per list, and characters per keyword.
MAX_KEYWORDS = 10
KEYWORD_LENGTH = 60
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})")
#: What separates the items of a list option (``categories``, ``include``, ``exclude``):
#: commas and semicolons, ASCII, full-width and the Japanese 、.
LIST_SEPARATORS = re.compile(r"[,、，;；]")


def parse_time(text: str | None) -> str | None:
    """``text`` as a local time ``HH:MM`` (``9:05``, ``09:05`` and full-width ``０９：０５``
    accepted), or None when it is not a time of day."""
    normalized = unicodedata.normalize("NFKC", text or "").strip()
    match = _TIME_RE.fullmatch(normalized)
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


@functools.cache
def _zones_by_key() -> dict[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def resolve_timezone(name: str | None) -> str | None:
    """The canonical IANA name for ``name`` (exact, else case-insensitive), or None."""
    wanted = unicodedata.normalize("NFKC", name or "").strip()
    if not wanted:
        return None
    try:
        zoneinfo.ZoneInfo(wanted)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return _zones_by_key().get(wanted.casefold())
    return wanted


def parse_list(text: str | None) -> tuple[str, ...] | None:
    """A comma-separated option as a list (``,`` ``、`` ``，`` ``;`` separate; blanks and
    repeats dropped, order kept): None when not given, ``()`` for ``-`` (clear it)."""
    if text is None:
        return None
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if cleaned in ("-", "ー", "−", "none", "なし"):
        return ()
    items: dict[str, str] = {}
    for part in LIST_SEPARATORS.split(cleaned):
        item = " ".join(part.split())
        if item:
            items.setdefault(item.casefold(), item)
    return tuple(items.values())


def digest_locale(value: str | None, fallback: str) -> str | None:
    """``ja``/``en`` (``ja-JP``, ``en-US`` … accepted), ``fallback`` for None, else None."""
    if value is None or not value.strip():
        return fallback
    key = value.strip().casefold()
    if key == "ja" or key.startswith("ja-"):
        return "ja"
    if key == "en" or key.startswith("en-"):
        return "en"
    return None


class Refused(Exception):
    """Input answered with technyan's explanation (``text``) instead of a change."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class SubscriptionForm:
    """Validates the ``/digest`` options over ``service`` (its categories) in
    ``persona``'s words."""

    def __init__(self, service: NewsService, persona: Persona) -> None:
        self.service = service
        self.persona = persona

    def _say(self, key: str, speak: str, seed: object = "", **values: object) -> str:
        return self.persona.say(key, speak, seed=str(seed), **values)

    async def _categories(self, speak: str, given: tuple[str, ...]) -> tuple[str, ...]:
        """``given`` as the index's own category names. Raises ``Refused`` naming the
        unknown ones and the known."""
        if not given:
            return ()
        known = await asyncio.to_thread(self.service.categories)
        by_key = {normalize(name): name for name in known}
        unknown = [name for name in given if normalize(name) not in by_key]
        if unknown:
            separator = "、" if speak == "ja" else ", "
            raise Refused(
                self._say(
                    "invalid_categories",
                    speak,
                    unknown[0],
                    categories=separator.join(unknown),
                    known=separator.join(known),
                )
            )
        return tuple(dict.fromkeys(by_key[normalize(name)] for name in given))

    def _keywords(self, speak: str, given: tuple[str, ...]) -> tuple[str, ...]:
        if len(given) > MAX_KEYWORDS or any(len(k) > KEYWORD_LENGTH for k in given):
            raise Refused(
                self._say("invalid_keywords", speak, limit=MAX_KEYWORDS, length=KEYWORD_LENGTH)
            )
        return given

    def _judge_target(self, speak: str, channel_id: int, check: ChannelCheck) -> None:
        """Raise ``Refused`` naming what stops a digest in the channel."""
        if check.ok:
            return
        details = []
        if check.missing:
            names = permission_names(self.persona, check.missing, speak)
            details.append(self._say("missing_permissions_line", speak, permissions=names))
        details += [self._say(f"problem_{problem}", speak) for problem in check.problems]
        raise Refused(
            self._say(
                "cannot_post",
                speak,
                channel_id,
                channel=f"<#{channel_id}>",
                details="".join(details),
            )
        )

    async def apply(
        self, speak: str, base: Subscription, options: DigestOptions, check: ChannelCheck
    ) -> Subscription:
        """``base`` with the ``options`` given applied, each validated, and the target
        judged by ``check``, for an admin speaking ``speak``. Raises ``Refused`` with
        technyan's explanation of the first thing wrong."""
        changes: dict[str, object] = {}
        if options.time is not None:
            hhmm = parse_time(options.time)
            if hhmm is None:
                raise Refused(self._say("invalid_time", speak, options.time, time=options.time))
            changes["time"] = hhmm
        if options.timezone is not None:
            zone = resolve_timezone(options.timezone)
            if zone is None:
                shown = options.timezone
                raise Refused(self._say("invalid_timezone", speak, shown, timezone=shown))
            changes["timezone"] = zone
        if options.locale is not None:
            chosen = digest_locale(options.locale, base.locale)
            if chosen is None:
                value = options.locale
                raise Refused(self._say("invalid_locale", speak, value, value=value))
            changes["locale"] = chosen
        if options.max_items is not None:
            items = options.max_items
            if not MAX_ITEMS_RANGE[0] <= items <= MAX_ITEMS_RANGE[1]:
                raise Refused(self._say("invalid_max_items", speak, items, max_items=items))
            changes["max_items"] = items
        if options.post_empty is not None:
            changes["post_empty"] = options.post_empty
        categories = parse_list(options.categories)
        if categories is not None:
            changes["categories"] = await self._categories(speak, categories)
        for field, text in (
            ("include_keywords", options.include),
            ("exclude_keywords", options.exclude),
        ):
            keywords = parse_list(text)
            if keywords is not None:
                changes[field] = self._keywords(speak, keywords)
        if options.no_role:
            changes["role_id"] = None
        elif options.role_id is not None:
            changes["role_id"] = options.role_id
        if options.publish is not None:
            if options.publish and check.kind != "announcement":
                raise Refused(self._say("publish_needs_announcement", speak))
            changes["publish"] = options.publish
        elif check.kind != "announcement":
            changes["publish"] = False
        self._judge_target(speak, base.channel_id, check)
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]
