"""How sure the bot is that a story answers a query (bot/confidence.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.confidence import CONFIDENCE_THRESHOLD, StoryEvidence


def evidence(
    roles: list[str],
    anywhere: list[float],
    title: list[float] | None = None,
    *,
    weights: list[float] | None = None,
    runner_up: float = 0.0,
    best_name_focus: float = 0.0,
    people: list[bool] | None = None,
) -> StoryEvidence:
    size = len(roles)
    return StoryEvidence(
        weights=weights or [3.0] * size,
        roles=roles,
        anywhere=anywhere,
        title=title or [0.0] * size,
        headline=[0.0] * size,
        strength=1.0,
        runner_up=runner_up,
        best_name_focus=best_name_focus,
        people=people or [],
    )


def test_a_story_about_every_name_and_topic_is_a_result() -> None:
    story = evidence(["entity", "topic"], [1.0, 1.0], [1.0, 1.0])
    assert story.confidence() >= CONFIDENCE_THRESHOLD


def test_chat_filler_the_story_lacks_does_not_matter() -> None:
    with_filler = evidence(["entity", "context", "context"], [1.0, 0.0, 0.0], [1.0, 0, 0])
    assert with_filler.confidence() == evidence(["entity"], [1.0], [1.0]).confidence()


def test_a_story_missing_the_name_asked_about_is_no_result() -> None:
    story = evidence(["entity", "topic"], [0.0, 1.0], [0.0, 1.0])
    assert story.confidence() < CONFIDENCE_THRESHOLD


def test_without_names_a_story_must_be_about_the_words() -> None:
    # "capital of australia": a story holding both words only in passing answers nothing
    passing = evidence(["topic", "topic"], [1.0, 1.0])
    about = evidence(["topic", "topic"], [1.0, 1.0], [1.0, 1.0])
    assert passing.confidence() < CONFIDENCE_THRESHOLD <= about.confidence()


def test_a_mention_in_passing_counts_less_when_other_stories_are_about_the_name() -> None:
    mention = evidence(["entity"], [1.0], [0.0], best_name_focus=1.0)
    about = evidence(["entity"], [1.0], [1.0], best_name_focus=1.0)
    assert mention.confidence() < CONFIDENCE_THRESHOLD <= about.confidence()


def test_a_person_quoted_in_passing_is_found_but_a_company_mentioned_once_is_a_guess() -> None:
    person = evidence(["entity"], [1.0], [0.0], people=[True])
    company = evidence(["entity"], [1.0], [0.0], people=[False])
    assert company.confidence() < CONFIDENCE_THRESHOLD <= person.confidence()
    # the rest of the question held makes a mention in passing an answer
    with_topics = evidence(["entity", "topic", "topic"], [1.0, 1.0, 1.0], people=[False] * 3)
    assert with_topics.confidence() >= CONFIDENCE_THRESHOLD


def test_a_long_message_is_answered_by_the_story_clearly_best_at_it() -> None:
    roles = ["entity"] + ["topic"] * 9
    held = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]  # 4 of 10 concepts
    leader = evidence(roles, held, runner_up=4.0)  # holds 12 idf units, runner-up 4
    tied = evidence(roles, held, runner_up=12.0)
    assert leader.confidence() >= CONFIDENCE_THRESHOLD > tied.confidence()


def test_the_long_message_reading_does_not_apply_to_short_queries() -> None:
    short = evidence(["entity", "topic", "topic"], [1.0, 1.0, 0.0], weights=[6, 6, 12], runner_up=1)
    assert short.confidence() < CONFIDENCE_THRESHOLD


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["entity", "topic", "context"]),
            st.floats(0, 10),
            *(st.sampled_from([0.0, 0.5, 1.0]) for _ in range(3)),
        ),
        min_size=1,
        max_size=10,
    ),
    st.floats(0, 1),
)
def test_the_shares_are_the_weighted_shares_the_module_defines(
    concepts: list[tuple[str, float, float, float, float]], strength: float
) -> None:
    roles = [c[0] for c in concepts]
    weights = [c[1] for c in concepts]
    anywhere, title, headline = ([c[k] for c in concepts] for k in (2, 3, 4))
    story = StoryEvidence(weights, roles, anywhere, title, headline, strength)

    def share(values: list[float], wanted: set[str]) -> float | None:
        total = sum(w for w, r in zip(weights, roles, strict=True) if r in wanted)
        held = sum(w * v for w, v, r in zip(weights, values, roles, strict=True) if r in wanted)
        return held / total if total > 0 else None

    every = {"entity", "topic", "context"}
    coverage = share(anywhere, every) or 0.0
    focus = 0.6 * (share(title, every) or 0.0) + 0.4 * (share(headline, every) or 0.0)
    assert story.coverage() == pytest.approx(coverage)
    assert story.focus() == pytest.approx(focus)
    assert story.score() == pytest.approx(0.45 * coverage + 0.3 * focus + 0.25 * strength)
    assert story.name_coverage() == pytest.approx(share(anywhere, {"entity"}))
    assert story.key_coverage() == pytest.approx(share(anywhere, {"entity", "topic"}) or 0.0)
    focus_values = [max(t, 0.67 * h) for t, h in zip(title, headline, strict=True)]
    assert story.name_focus() == pytest.approx(share(focus_values, {"entity"}) or 0.0)
    held = sum(w * a for w, a, r in zip(weights, anywhere, roles, strict=True) if r != "context")
    assert story.held() == pytest.approx(held)
