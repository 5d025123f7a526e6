"""NewsService: the core's one entry point, used by the terminal console and the Discord
cog alike. It decides everything the bot says and returns it as a ``Reply``."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

import yarl

from bot import text
from bot.config import Settings
from bot.periods import DateRange
from bot.persona import Persona, reply_locale
from bot.replies import Answer, Reply, StoryCard
from bot.search import Document, SearchEngine, StoryHit, Suggestion
from bot.user_input import MAX_LATEST, InvalidOption, clean_text, parse_story_count

if TYPE_CHECKING:
    from bot.index import IndexReport

__all__ = ["MAX_LATEST", "NewsService"]

log = logging.getLogger(__name__)

#: Characters of a query, question, trend topic or autocomplete prefix that are read; the
#: rest is cut before searching, which bounds the planner's work (a mention can carry a
#: whole message: up to 2,000 characters, 4,000 with Nitro; Discord docs
#: resources/message#create-message).
MAX_QUERY_CHARACTERS = 500


# A placeholder of ``site.article_url`` and what it matches in a pasted link.
_URL_PLACEHOLDERS = {
    "locale": r"[A-Za-z-]{2,8}",
    "date": r"\d{8}",
    "slug": r"[^/?#\s<>]+?",
    "story": r"[^?#\s<>]+?",
}


@lru_cache(maxsize=4)
def _article_url_pattern(template: str) -> re.Pattern[str] | None:
    """A regular expression finding links made by ``template`` (``site.article_url``)
    in text, its placeholders as named groups (a placeholder used twice is matched, not
    captured, the second time), with an optional trailing slash, query or fragment and
    without the punctuation that may follow a link in a sentence; None
    for a template with no ``{date}``/``{slug}`` or ``{story}`` to read back."""
    if "{story}" not in template and not ("{date}" in template and "{slug}" in template):
        return None
    parts = re.split(r"(\{\w+\})", template)
    seen: set[str] = set()
    pattern = ""
    for part in parts:
        name = part[1:-1] if part.startswith("{") and part.endswith("}") else None
        if name is None or name not in _URL_PLACEHOLDERS:
            pattern += re.escape(part)
        elif name in seen:
            pattern += f"(?:{_URL_PLACEHOLDERS[name]})"
        else:
            seen.add(name)
            pattern += f"(?P<{name}>{_URL_PLACEHOLDERS[name]})"
    # The link ends at a space, an angle bracket or the text's end, punctuation before it
    # not included ("…/slug." or "(…/slug)").
    end = r"/?(?:[?#][^\s<>]*?)?(?=[.,!?;:、。)\]]{0,3}(?:$|[\s<>]))"
    return re.compile(pattern + end, re.IGNORECASE)


def _period_text(period: DateRange, locale: str) -> str:
    """A period as technyan names it: one ISO date, or the first and last joined by "〜"
    (ja) or " to " (other locales): ``2023-03-01 to 2023-03-31``."""
    if period.start == period.end:
        return period.start.isoformat()
    joiner = "〜" if locale == "ja" else " to "
    return f"{period.start.isoformat()}{joiner}{period.end.isoformat()}"


class NewsService:
    """The bot's brain over one index.

    ``settings`` gives the index and corpus paths and the site's URL templates. The search
    engine is opened on first use, building the index from the corpus if it is missing;
    ``reload()`` picks up an index swapped in by a rebuild. Methods never raise on user
    text: every query, question, category and count is cleaned and validated here
    (``bot.user_input``), so each adapter gets the same answer to the same input. They raise
    ``FileNotFoundError`` only when there is neither an index nor a corpus.
    """

    def __init__(self, settings: Settings, persona: Persona | None = None) -> None:
        self.settings = settings
        self.persona = persona or Persona.load()
        self._engine: SearchEngine | None = None
        self._engine_stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()

    # -- index ----------------------------------------------------------------------------

    def ensure_index(self) -> IndexReport | None:
        """Build the index from the configured corpus when it does not exist yet. Returns
        the build report, or None when an index was already there."""
        if self.settings.index_path.exists():
            return None
        return self.reindex()

    def reindex(self, *, full: bool = False) -> IndexReport:
        """Bring the index up to date with the corpus (incremental unless ``full``) and
        switch to the new index. Raises ``FileNotFoundError`` for a missing corpus."""
        from bot.index import build_index  # the builder: not loaded to answer queries

        report = build_index(self.settings.corpus_path, self.settings.index_path, full=full)
        if report.changed or report.rebuilt:
            self.reload()
        return report

    def reload(self) -> None:
        """Open the current index file afresh (after an atomic swap)."""
        with self._lock:
            old, self._engine, self._engine_stamp = self._engine, None, None
        if old is not None:
            old.close()

    @property
    def engine(self) -> SearchEngine:
        """The search engine over the current index, opened (and built) on first use."""
        path = self.settings.index_path
        with self._lock:
            if self._engine is not None:
                try:
                    stat = path.stat()
                    if (stat.st_ino, stat.st_mtime_ns) == self._engine_stamp:
                        return self._engine
                except OSError:
                    return self._engine
        if not path.exists():
            self.ensure_index()
        engine = SearchEngine(path)
        stat = path.stat()
        with self._lock:
            old, self._engine = self._engine, engine
            self._engine_stamp = (stat.st_ino, stat.st_mtime_ns)
        if old is not None:
            old.close()
        return engine

    # -- cards ----------------------------------------------------------------------------

    def url_for(self, document: Document) -> str:
        """The page of ``document`` on the site, as an absolute, percent-encoded URL: the
        article page in its locale (``site.article_url`` with ``{locale}``, ``{date}``
        (YYYYMMDD), ``{slug}`` and ``{story}`` filled in), or ``site.timeline_url`` for
        timeline entries (they have no page of their own).

        Every value from the corpus is percent-encoded before it enters the template
        (``urllib.parse.quote``: a folder ``northwind office`` becomes
        ``northwind%20office``, ``#`` and ``?`` cannot start a fragment or a query; ``/``
        is kept only inside ``{story}``, a path), then the whole URL is normalized by yarl
        (an internationalized host becomes punycode), so Discord never rejects a link as
        "Not a well formed URL" (50035)."""
        if document.collection == "aiTimeline":
            return str(yarl.URL(self.settings.timeline_url))
        folder_date = document.folder_date or document.date.strftime("%Y%m%d")
        filled = self.settings.article_url.format(
            locale=quote(document.locale, safe=""),
            date=quote(folder_date, safe=""),
            slug=quote(document.slug, safe=""),
            story=quote(document.story, safe="/"),
        )
        return str(yarl.URL(filled))

    def card(
        self, hit: StoryHit, locale: str, *, weak: bool = False, shown: str | None = None
    ) -> StoryCard:
        """The story of ``hit`` for a user of ``locale``: its document in ``shown`` (the
        language an answer was quoted from) or else in ``locale``, or its only language;
        the note says when the story has no document in ``locale``."""
        document = hit.documents.get(shown) if shown else None
        document = document or hit.document_for(locale)
        note = ""
        if locale not in hit.documents:
            note = self.persona.say("other_locale_only", locale, seed=hit.story)
        return StoryCard(
            story=hit.story,
            locale=document.locale,
            requested_locale=locale,
            title=document.title,
            description=document.description,
            date=document.date,
            category=document.category,
            tags=document.tags,
            url=self.url_for(document),
            technyan_comment=document.technyan_comment,
            impact_level=document.impact_level,
            related_companies=document.related_companies,
            collection=document.collection,
            score=hit.score,
            weak=weak,
            note=note,
            label=self.persona.say("weak_label", locale, seed=hit.story) if weak else "",
        )

    # -- commands -------------------------------------------------------------------------

    def latest(
        self,
        count: int | str | None = None,
        category: str | None = None,
        locale: str | None = None,
    ) -> Reply:
        """The newest stories, newest first, optionally of one category (matched without
        regard to case or width). ``count`` is 1–25 (``parse_story_count``; None: 5). A bad
        count or an unknown category is answered with technyan's line saying what is
        accepted (the categories there are), with ``Reply.invalid`` naming the option."""
        locale = reply_locale(locale, self.settings.default_locale)
        try:
            count = parse_story_count(count)
        except InvalidOption as error:
            header = self.persona.say(
                error.persona_key,
                locale,
                seed=error.value,
                value=error.value,
                low=1,
                high=MAX_LATEST,
            )
            return Reply("latest", locale, header, query=error.value, invalid=error.option)
        category = clean_text(category) if category else None
        if category:
            known = self.categories()
            wanted = text.normalize(category)
            matching = [name for name in known if text.normalize(name) == wanted]
            if not matching:
                listed = "、".join(known[:15]) if locale == "ja" else ", ".join(known[:15])
                header = self.persona.say(
                    "unknown_category", locale, seed=category, category=category, categories=listed
                )
                return Reply("latest", locale, header, query=category, invalid="category")
            category = matching[0]
        hits = self.engine.latest(count, category=category or None)
        cards = tuple(self.card(hit, locale) for hit in hits)
        if not cards:
            return Reply("latest", locale, self.persona.say("latest_empty", locale))
        header = self.persona.say("latest_header", locale, seed=str(count), count=len(cards))
        return Reply("latest", locale, header, cards)

    def about(
        self,
        query: str,
        locale: str | None = None,
        limit: int = 10,
        *,
        as_of: dt.date | None = None,
    ) -> Reply:
        """Stories about ``query`` (confident ones), or technyan saying nothing was found,
        with "did you mean" suggestions and weak matches labelled as weak; for a version
        the corpus does not have ("Sora 4"), technyan says so and offers the neighbouring
        versions as weak matches. Periods in the query are resolved against ``as_of``
        (default today); when one lies wholly outside the stories' dates, "nothing found"
        says so (``_outside_stories``). A message linking to articles of the site answers
        with their stories (``_linked_stories``)."""
        locale = reply_locale(locale, self.settings.default_locale)
        query = clean_text((query or "")[:MAX_QUERY_CHARACTERS])
        shown = " ".join(query.split())
        if not shown:
            return Reply("about", locale, self.persona.say("empty_query", locale), query=query)
        linked = self._linked_stories(query)
        if linked:
            cards = tuple(self.card(hit, locale) for hit in linked[:limit])
            header = self.persona.say("about_linked", locale, seed=shown, count=len(cards))
            return Reply("about", locale, header, cards, query=shown)
        outcome = self.engine.about(query, limit=limit, as_of=as_of)
        if outcome.hits:
            cards = tuple(self.card(hit, locale) for hit in outcome.hits)
            period = outcome.plan.date_range
            if period is not None and not outcome.plan.concepts:
                # "anything big in March 2023?": the period's stories, said as such.
                dates = _period_text(period, locale)
                header = self.persona.say("period_header", locale, seed=shown, period=dates)
            else:
                header = self.persona.say("about_header", locale, seed=shown, query=shown)
            return Reply("about", locale, header, cards, query=shown)
        weak_cards = tuple(self.card(hit, locale, weak=True) for hit in outcome.weak)
        if outcome.plan.missing_versions:
            versions = self._join_suggestions(tuple(outcome.plan.missing_versions), locale)
            header = self.persona.say("version_unknown", locale, seed=shown, versions=versions)
        elif weak_cards:
            # The weak header says both: nothing exactly about it, and these are guesses.
            header = self.persona.say("about_weak_header", locale, seed=shown, query=shown)
        elif period_header := self._outside_stories(shown, outcome.plan.date_range, locale):
            header = period_header
        else:
            header = self.persona.say("not_found", locale, seed=shown, query=shown)
        suggestions = tuple(outcome.suggestions)
        if suggestions:
            joined = self._join_suggestions(suggestions, locale)
            header += "\n" + self.persona.say(
                "did_you_mean", locale, seed=shown, suggestions=joined
            )
        return Reply(
            "about",
            locale,
            header,
            weak_cards,
            suggestions=suggestions,
            query=shown,
            weak=bool(weak_cards),
        )

    def _linked_stories(self, query: str) -> list[StoryHit]:
        """The stories whose pages on the site ``query`` links to (``site.article_url``
        read back: its ``{story}``, or ``{date}`` and ``{slug}``, name an article's story
        folder ``articles/{date}/{slug}``), in the order linked, each once; links to
        anything else are left to the search (which ignores links)."""
        pattern = _article_url_pattern(self.settings.article_url)
        if pattern is None or "://" not in query:
            return []
        stories: list[str] = []
        for match in pattern.finditer(query):
            found = match.groupdict()
            if found.get("story"):
                story = unquote(found["story"]).strip("/")
            elif found.get("date") and found.get("slug"):
                story = f"articles/{found['date']}/{unquote(found['slug'])}"
            else:
                continue
            if story not in stories:
                stories.append(story)
        documents = self.engine.documents_of(stories) if stories else {}
        return [StoryHit(s, documents[s], 1.0, 1.0) for s in stories if documents.get(s)]

    def _outside_stories(self, shown: str, period: DateRange | None, locale: str) -> str:
        """When the period a query asked for lies wholly past the newest story or before
        the oldest, technyan names the dates searched (``not_found_in_period``) and where
        the stories end or begin ("last month" on a corpus that stopped updating months
        ago can find nothing, and the user should see why); else "" (the period is not
        the reason, and the usual "nothing found" is said)."""
        span = self.engine.date_span()
        if period is None or span is None:
            return ""
        oldest, newest = span
        if period.start > newest:
            where = self.persona.say("stories_end", locale, seed=shown, newest=newest.isoformat())
        elif period.end < oldest:
            where = self.persona.say("stories_begin", locale, seed=shown, oldest=oldest.isoformat())
        else:
            return ""
        said = self.persona.say(
            "not_found_in_period",
            locale,
            seed=shown,
            query=shown,
            period=_period_text(period, locale),
        )
        return f"{said}\n{where}"

    @staticmethod
    def _join_suggestions(suggestions: tuple[str, ...], locale: str) -> str:
        if locale == "ja":
            return "、".join(f"「{s}」" for s in suggestions[:3])
        return ", ".join(f'"{s}"' for s in suggestions[:3])

    def ask(
        self, question: str, locale: str | None = None, *, as_of: dt.date | None = None
    ) -> Reply:
        """The sentence of a story that answers ``question``, quoted with its story, or
        technyan saying no article answers it. Periods are resolved against ``as_of``."""
        locale = reply_locale(locale, self.settings.default_locale)
        question = clean_text((question or "")[:MAX_QUERY_CHARACTERS])
        shown = " ".join(question.split())
        if not shown:
            return Reply("ask", locale, self.persona.say("empty_question", locale), query=question)
        from bot.answer import answer_question

        extracted = answer_question(self.engine, question, locale, as_of=as_of)
        if extracted is None:
            header = self.persona.say("ask_not_found", locale, seed=shown, question=shown)
            return Reply("ask", locale, header, query=shown)
        card = self.card(extracted.hit, locale, shown=extracted.locale)
        answer = Answer(
            card=card,
            text=extracted.text,
            passage=extracted.passage,
            heading=extracted.heading,
            score=extracted.score,
        )
        header = self.persona.say("ask_header", locale, seed=shown, question=shown)
        return Reply("ask", locale, header, (card,), answer=answer, query=shown)

    def help(self, locale: str | None = None) -> Reply:
        """What technyan can do, in technyan's voice."""
        locale = reply_locale(locale, self.settings.default_locale)
        return Reply(
            "help", locale, self.persona.say("help", locale, seed=dt.date.today().isoformat())
        )

    def error(self, locale: str | None = None) -> Reply:
        """technyan's apology for a failure (no details: those go to the log)."""
        locale = reply_locale(locale, self.settings.default_locale)
        return Reply("error", locale, self.persona.say("error", locale))

    def suggest(self, prefix: str, limit: int = 25, locale: str | None = None) -> list[Suggestion]:
        """Autocomplete choices for a partially typed query: names, then one title per
        story in ``locale`` (the user's language; default ``bot.default_locale``) first,
        at most ``limit`` (see ``SearchEngine.suggest``)."""
        locale = reply_locale(locale, self.settings.default_locale)
        return self.engine.suggest(
            clean_text((prefix or "")[:MAX_QUERY_CHARACTERS]), limit=limit, locale=locale
        )

    def categories(self) -> list[str]:
        """Category names, most common first."""
        return [name for name, _ in self.engine.categories()]
