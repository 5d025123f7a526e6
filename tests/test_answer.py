"""How a story's passages are cut into the sentences and bullets an answer quotes
(bot/answer.py; answers on whole corpora are tested in test_search.py and test_cli.py)."""

from __future__ import annotations

from bot.answer import quotable_units


def test_a_tables_header_row_is_never_quoted_its_rows_are() -> None:
    passage = (
        "Scores on the new benchmark:\n\n"
        "| Model | Score |\n|---|---:|\n| Acme 2 | 71% |\n| Acme 1 | 64% |\n\n"
        "Acme 2 leads. It ships in May."
    )
    assert quotable_units(passage) == [
        "Scores on the new benchmark:",
        "| Acme 2 | 71% |",
        "| Acme 1 | 64% |",
        "Acme 2 leads.",
        "It ships in May.",
    ]
