"""Candidate retrieval: bounded, rarest concepts first, within a period, and the newest
holders of very common words."""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.retrieval
from bot.index import build_index
from bot.query import QueryPlan
from bot.retrieval import CandidateRetriever, id_runs
from bot.search import SearchEngine
from bot.term_statistics import TermStatistics
from bot.text import analyze
from tests.conftest import ArticleWriter, frontmatter_text
from tests.search_support import build, open_index, story_of


@pytest.fixture
def db_path(tmp_path: Path, write_article: ArticleWriter) -> Path:
    # 20 robot stories, one a month; every fourth has "robots" only in its body. One of
    # them also names a rare word, "zeppelin".
    for number in range(20):
        year, month = 2024 + number // 12, number % 12 + 1
        titled = number % 4 != 0
        write_article(
            f"articles/{year}{month:02d}01/robots-{number}/en.md",
            body="## Body\n\nRobots everywhere." + (" A zeppelin too." if number == 7 else ""),
            title=f"Robots news {number}" if titled else f"Factory news {number}",
            description="Industry.",
            date=f"raw:{year}-{month:02d}-01",
        )
    return build(tmp_path)


def stories_retrieved(
    retriever: CandidateRetriever, plan: QueryPlan, limit: int
) -> dict[str, float]:
    """The candidates' stories with their strength."""
    candidates = retriever.retrieve(plan, limit=limit)
    return {story_of(retriever._db, i): strength for i, strength in candidates.items()}


def retriever_for(db_path: Path) -> CandidateRetriever:
    db, lock = open_index(db_path)
    count = int(db.execute("SELECT count(*) FROM documents").fetchone()[0])
    return CandidateRetriever(db, lock, TermStatistics(db, lock, count), count)


def test_candidates_are_bounded_by_the_limit_and_hold_the_words(db_path: Path) -> None:
    retriever = retriever_for(db_path)
    plan = SearchEngine(db_path).plan("robots")
    candidates = retriever.retrieve(plan, limit=5)
    assert len(candidates) == 5
    assert all(strength > 0 for strength in candidates.values())
    assert len(retriever.retrieve(plan, limit=100)) == 20


def test_the_rarest_concept_alone_is_retrieved_when_the_budget_is_spent(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    retriever = retriever_for(db_path)
    plan = SearchEngine(db_path).plan("robots zeppelin")
    assert len(retriever.retrieve(plan)) == 20  # both concepts within the budget
    monkeypatch.setattr(bot.retrieval, "RETRIEVAL_POSTINGS", 5)
    candidates = retriever.retrieve(plan)
    assert [story_of(retriever._db, i) for i in candidates] == ["articles/20240801/robots-7"]


def test_a_period_restricts_the_candidates_to_its_dates(db_path: Path) -> None:
    retriever = retriever_for(db_path)
    plan = SearchEngine(db_path).plan("robots in March 2025", as_of=dt.date(2026, 2, 1))
    assert plan.date_range is not None
    candidates = retriever.retrieve(plan)
    assert [story_of(retriever._db, i) for i in candidates] == ["articles/20250301/robots-14"]


@pytest.mark.parametrize("warmed", [False, True], ids=["cold", "warmed"])
def test_very_common_words_give_the_newest_holders_titled_first(
    db_path: Path, warmed: bool
) -> None:
    retriever = retriever_for(db_path)
    if warmed:  # the documents' dates in memory rather than joined per match
        retriever.warm()
    retriever.common_postings = 5  # every document holds "robots": the newest-first path
    plan = SearchEngine(db_path).plan("robots")
    # The newest titled holders (19, 18, 17, 15; 16 has "robots" in its body only).
    assert stories_retrieved(retriever, plan, limit=4) == {
        "articles/20250801/robots-19": 1.0,
        "articles/20250701/robots-18": 1.0,
        "articles/20250601/robots-17": 1.0,
        "articles/20250401/robots-15": 1.0,
    }
    everything = retriever.retrieve(plan, limit=20)
    untitled = {story_of(retriever._db, i) for i, s in everything.items() if s == 0.5}
    assert untitled == {
        f"articles/{2024 + n // 12}{n % 12 + 1:02d}01/robots-{n}" for n in (0, 4, 8, 12, 16)
    }
    # A cold process asking once (`technyan-bot news about`) loads no dates for it.
    assert (retriever._dated_ids is not None) == warmed


@pytest.mark.parametrize("warmed", [False, True], ids=["cold", "warmed"])
def test_after_an_update_the_newest_holders_are_still_the_newest(
    db_path: Path, tmp_path: Path, write_article: ArticleWriter, warmed: bool
) -> None:
    # An update gives the files it changes or adds new ids after all others: eight
    # stories of 2024 corrected and a timeline entry added must not stand in for the
    # newest articles (walked from the highest id, they filled the pool with old ones).
    for number in (1, 2, 3, 5, 6, 7, 9, 10):
        month = number + 1
        write_article(
            f"articles/2024{month:02d}01/robots-{number}/en.md",
            body="## Body\n\nRobots everywhere, corrected.",
            title=f"Robots news {number}",
            description="Industry.",
            date=f"raw:2024-{month:02d}-01",
        )
    write_article(
        "aiTimeline/robot-milestone/en.md", title="Robots milestone", date="raw:2024-03-15"
    )
    build_index(tmp_path / "corpus", db_path, full=False)
    retriever = retriever_for(db_path)
    if warmed:
        retriever.warm()
    retriever.common_postings = 5
    plan = SearchEngine(db_path).plan("robots")
    assert stories_retrieved(retriever, plan, limit=2) == {
        "articles/20250801/robots-19": 1.0,
        "articles/20250701/robots-18": 1.0,
    }
    assert retriever.collection_runs() == [(1, 20), (21, 28), (29, 29)]


def test_after_many_updates_the_newest_holders_skip_what_cannot_be_newer(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    # 90 robot stories dated by month (many share a date), a fifth of them dated apart
    # from their folders, then three updates of mostly recent files: the warmed
    # retriever leaves out stretches whose dates cannot reach the newest it holds, and
    # finds exactly what the cold one (which reads every stretch, joining dates) finds.
    generator = random.Random(7)

    def write(number: int, note: str = "") -> None:
        folder = dt.date(2023, 1, 1) + dt.timedelta(days=9 * number)
        shift = generator.choice([0] * 4 + [-400, 300])
        date = (folder + dt.timedelta(days=shift)).replace(day=1)
        write_article(
            f"articles/{folder:%Y%m%d}/robots-{number}/en.md",
            body=f"## Body\n\nRobots everywhere.{note}",
            title=f"Robots news {number}",
            date=f"raw:{date.isoformat()}",
        )

    for number in range(90):
        write(number)
    db_path = build(tmp_path)
    for round_number in range(3):
        changed = generator.sample(range(50, 90), 10) + generator.sample(range(50), 3)
        for number in changed:
            write(number, f" Corrected {round_number}.")
        build_index(tmp_path / "corpus", db_path, full=False)
    cold, warmed = retriever_for(db_path), retriever_for(db_path)
    warmed.warm()
    read: dict[str, int] = {"cold": 0, "warmed": 0}
    for name, retriever in (("cold", cold), ("warmed", warmed)):
        dated_rows = retriever._dated_rows

        def counted(*args: Any, name: str = name, dated_rows: Any = dated_rows) -> Any:
            rows = dated_rows(*args)
            read[name] += len(rows)
            return rows

        retriever._dated_rows = counted  # type: ignore[method-assign]
    assert len(warmed.collection_runs()) > 2
    for pool in range(1, 60):
        for postings in (90, 30):  # windows sized for a word in every document, in a third
            expected = cold.newest_matches('"robot"', None, postings, pool)
            assert warmed.newest_matches('"robot"', None, postings, pool) == expected, pool
    assert read["warmed"] < read["cold"]


@pytest.mark.parametrize("merged", [False, True], ids=["runs listed together", "one run walked"])
def test_very_common_words_in_a_period_give_its_newest_holders(
    db_path: Path,
    tmp_path: Path,
    write_article: ArticleWriter,
    monkeypatch: pytest.MonkeyPatch,
    merged: bool,
) -> None:
    # A story filed among 2024's but dated 2026: 2024's ids are two runs around it, read
    # by one listing each; or, merged (as a period with more than 32 gaps has them), one
    # run holding it, walked back from its newest id.
    write_article(
        "articles/20240615/late/en.md",
        title="Robots news, late",
        date="raw:2026-01-01",
    )
    build_index(tmp_path / "corpus", db_path, full=True)  # ids in file order
    if merged:
        monkeypatch.setattr(bot.retrieval, "id_runs", lambda ids, most=32: id_runs(ids, most=1))
    retriever = retriever_for(db_path)
    retriever.common_postings = 5
    plan = SearchEngine(db_path).plan("robots in 2024", as_of=dt.date(2026, 2, 1))
    # 2024's newest titled holders (8 has "robots" in its body only); none of 2025.
    assert stories_retrieved(retriever, plan, limit=4) == {
        "articles/20241201/robots-11": 1.0,
        "articles/20241101/robots-10": 1.0,
        "articles/20241001/robots-9": 1.0,
        "articles/20240801/robots-7": 1.0,
    }


_COLD_NEWEST_HOLDERS = """
import sys
from pathlib import Path
from bot.search import SearchEngine
engine = SearchEngine(Path(sys.argv[1]))
engine.common_postings = 5
hits = engine.about("robots").hits
print(len(hits), "numpy" in sys.modules)
"""


def test_a_cold_process_finds_common_words_newest_holders_without_numpy(db_path: Path) -> None:
    # A cold command pays for every import: numpy alone costs about 80 ms.
    done = subprocess.run(
        [sys.executable, "-c", _COLD_NEWEST_HOLDERS, str(db_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.stdout.split() == ["10", "False"]


def test_a_listed_run_keeps_what_the_walk_back_would_keep(
    db_path: Path, tmp_path: Path, write_article: ArticleWriter
) -> None:
    # Filed early in 2024, dated its last day: a small id with the newest date of 2024.
    write_article("articles/20240115/odd/en.md", title="Robots news, odd", date="raw:2024-12-31")
    build_index(tmp_path / "corpus", db_path, full=True)
    retriever = retriever_for(db_path)
    alternatives = SearchEngine(db_path).plan("robots").concepts[0].alternatives
    expression = " OR ".join(a.fts() for a in alternatives)
    period = ("2024-01-01", "2024-12-31")
    # Words in every document: 2024's run is longer than its share allows, and walked;
    # said to be in one document, the same run is listed whole. Either way the run's
    # newest three ids are kept, which leave out the odd story.
    walked = retriever.retrieve_newest(expression, period, postings=21, limit=1)
    listed = retriever.retrieve_newest(expression, period, postings=1, limit=1)
    assert listed == walked
    assert [story_of(retriever._db, i) for i in walked] == ["articles/20241201/robots-11"]


def test_short_runs_are_grouped_and_long_ones_walked_apart() -> None:
    runs = [(1, 4), (6, 9), (11, 30), (40, 41), (43, 45), (60, 61)]
    groups, walked = bot.retrieval._run_groups(runs, most_ids=10)
    assert groups == [[(1, 4), (6, 9)], [(40, 41), (43, 45)], [(60, 61)]]
    assert walked == [(11, 30)]


def test_a_query_the_index_lacks_retrieves_nothing(db_path: Path) -> None:
    retriever = retriever_for(db_path)
    assert retriever.retrieve(SearchEngine(db_path).plan("qwxzv")) == {}


def test_a_full_build_gives_each_collection_one_run_of_ids(
    db_path: Path, tmp_path: Path, write_article: ArticleWriter
) -> None:
    assert retriever_for(db_path).collection_runs() == [(1, 20)]
    write_article("aiTimeline/robot-milestone/en.md", title="Robots milestone")
    # A folder named as another's start, then "-…": listed after it, "/" before "-".
    write_article("articles/20250801/robots-19-recap/en.md", title="Robots recap")
    build_index(tmp_path / "corpus", db_path, full=True)
    assert retriever_for(db_path).collection_runs() == [(1, 21), (22, 22)]


def test_a_periods_ids_split_into_runs_at_the_widest_gaps() -> None:
    assert id_runs([]) == []
    assert id_runs([5, 6, 7, 9, 10, 40, 41, 900]) == [(5, 7), (9, 10), (40, 41), (900, 900)]
    assert id_runs([5, 6, 7, 9, 10, 40, 41, 900], most=2) == [(5, 41), (900, 900)]
    assert id_runs(list(range(1, 50)), most=3) == [(1, 49)]


def _runs_by_sorting_gaps(ids: list[int], most: int) -> list[tuple[int, int]]:
    """The definition id_runs computes with arrays: sort (gap, position) pairs, widest
    (then latest) first, and cut at the first most - 1 of them."""
    if not ids:
        return []
    gaps = sorted(
        ((ids[i + 1] - ids[i], i) for i in range(len(ids) - 1) if ids[i + 1] - ids[i] > 1),
        reverse=True,
    )[: most - 1]
    runs, start = [], ids[0]
    for i in sorted(i for _, i in gaps):
        runs.append((start, ids[i]))
        start = ids[i + 1]
    return [*runs, (start, ids[-1])]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.sets(st.integers(1, 2000), max_size=80), st.integers(1, 12))
def test_id_runs_cut_at_the_widest_gaps_whatever_the_ids(ids: set[int], most: int) -> None:
    ordered = sorted(ids)
    runs = id_runs(ordered, most)
    assert runs == _runs_by_sorting_gaps(ordered, most)
    assert id_runs(numpy.array(ordered, dtype=numpy.int64), most) == runs
    assert len(runs) <= most
    assert all(any(low <= i <= high for low, high in runs) for i in ordered)


def test_a_periods_runs_are_those_of_its_documents_ids(db_path: Path) -> None:
    retriever = retriever_for(db_path)
    with retriever._lock:
        ids = [
            int(i)
            for (i,) in retriever._db.execute(
                "SELECT id FROM documents WHERE date BETWEEN '2025-02-01' AND '2025-06-30' "
                "ORDER BY id"
            )
        ]
    assert ids
    assert retriever.period_runs("2025-02-01", "2025-06-30") == id_runs(ids)
    assert retriever.period_runs("2031-01-01", "2031-12-31") == []


def test_the_walk_back_reads_as_many_ids_as_the_wanted_matches_need_at_the_density_seen() -> None:
    # 10 matches in 100 ids, 30 more wanted: 300 ids at that density, a quarter to spare.
    assert CandidateRetriever._next_window(100, needed=30, matched=10, read=100) == 376
    # Nothing matched yet: no density to go by, the window grows fourfold.
    assert CandidateRetriever._next_window(100, needed=30, matched=0, read=100) == 400


TITLE_WORDS = ["robots", "factory", "news", "arm", "vision", "robots news"]


@pytest.fixture(scope="module")
def titles_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 60 documents whose titles mix a few words in every order, so phrases and NEAR
    # groups hold in some titles and not others; bodies hold every word.
    tmp_path = tmp_path_factory.mktemp("titles")
    order = random.Random(5)
    for number in range(60):
        words = order.sample(["robots", "factory", "news", "arm", "vision", "daily"], 3)
        day = f"2025-{number % 12 + 1:02d}-{number % 28 + 1:02d}"
        path = tmp_path / "corpus" / "articles" / day.replace("-", "") / f"t-{number}" / "en.md"
        path.parent.mkdir(parents=True)
        fields = {
            "title": " ".join(words).capitalize(),
            "description": "Industry.",
            "date": f"raw:{day}",
            "category": "Other",
            "locale": "en",
        }
        body = "## Body\n\nRobots, factory news, an arm and vision every day.\n"
        path.write_text(frontmatter_text(fields) + "\n" + body, encoding="utf-8")
    return build(tmp_path)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(
    st.sets(st.integers(1, 60), min_size=1, max_size=40),
    st.lists(st.sampled_from(TITLE_WORDS), min_size=1, max_size=3, unique=True),
    st.booleans(),
)
def test_the_title_check_of_the_newest_holders_agrees_with_the_stored_titles(
    titles_index: Path, ids: set[int], words: list[str], near: bool
) -> None:
    """``title_matches`` (FTS5 over ``title_fts``, by stretches of ids) finds exactly the
    ids whose stored analyzed title holds a phrase or NEAR group of the expression."""
    from bot.forward_index import DocumentTerms, pack_head, split_head
    from bot.query import Alternative

    retriever = retriever_for(titles_index)
    alternatives = [
        Alternative(terms=tuple(analyze(word)), trust=1.0, near=near and " " in word)
        for word in words
    ]
    expression = " OR ".join(sorted({a.fts() for a in alternatives}))
    heads = dict(retriever._db.execute("SELECT document_id, head FROM document_terms"))
    expected = set()
    for document_id in ids:
        # The stored title alone, as a document of one column.
        title = DocumentTerms(pack_head(split_head(heads[document_id])[0], "", ""), None)
        for alternative in alternatives:
            if alternative.near:
                held = title.holds_near(alternative.terms, alternative.near_window())
            else:
                held = title.holds_phrase(alternative.terms)
            if held:
                expected.add(document_id)
    assert retriever.title_matches(expression, sorted(ids)) == expected
