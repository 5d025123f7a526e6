"""What a question asks for, and which sentences hold it (bot/answer_types.py)."""

from __future__ import annotations

import pytest

from bot.answer_types import asked_type, counted_thing, type_strength


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who created Moltbook?", "person"),
        ("Project Prometheusの共同創業者は誰？", "person"),
        ("Which company did Anthropic sign its first deal with?", "organization"),
        ("Torsten Volk氏はどこの所属？", "organization"),
        ("Where will Jensen Huang give his keynote?", "place"),
        ("AI安全サミットはどこの国で開催された？", "place"),
        ("When did Claude Code become generally available?", "date"),
        ("Anthropicが日本法人を立ち上げたのはいつ？", "date"),
        ("Until when is support guaranteed?", "deadline"),
        ("1xの倍率が適用されるのはいつまで？", "deadline"),
        ("How much does the rental plan cost?", "money"),
        ("投資した額は？", "money"),
        ("How many users were affected?", "count"),
        ("何件のプルリクエストに使われた？", "count"),
        ("What share of users choose GPT-4o?", "percent"),
        ("有料ユーザーは何%くらい？", "percent"),
        ("What internal codename was it developed under?", "name"),
        ("そのサービスの名前は？", "name"),
        ("How long did it take to build Cowork?", "duration"),
        ("Snowflakeに何年在籍していた？", "duration"),
        ("最長何秒の動画まで作れた？", "duration"),
        ("What did Claude 3.5 Sonnet score on SWE-bench?", "score"),
        ("Tell me about DeepSeek", None),
        ("how much did the stock drop after the earnings call?", "change"),
        ("By how much has revenue increased since launch?", "change"),
        ("エラー率はどれくらい下がったの？", "change"),
        ("which Microsoft researcher led the study?", "person"),
        ("この機能を作るのにどれくらいかかったの？", "duration"),
        ("Who can use Claude Code on the web?", None),  # an audience, not a name
        ("誰が使えるの？", None),
        ("もう導入してる会社ってある？どこ？", "organization"),
        ("今期の売上はどれくらいの見込み？", "money"),
        ("開発費用はどれくらいかかったの？", "money"),
        ("コストはどれくらい下がった？", "change"),
        # when something is expected is asked like a deadline
        ("when is the new voice mode supposed to ship?", "deadline"),
        ("any eta on the desktop app?", "deadline"),
        ("新しいチップはいつ出る予定？", "deadline"),
        ("次のモデルっていつ頃来るの？", "deadline"),
        ("When did the voice mode ship?", "date"),
        ("that chip, いつ出たっけ", "date"),
        # an organization named by its kind
        ("調査を出してたのってどこのVC？", "organization"),
        ("which football club topped the list?", "organization"),
        ("how big was the funding round?", "money"),
        ("how big is the model?", None),
        ("あのモデルっていつ消えるの？", "deadline"),
        ("あの人ってCTOを何年やってたの？", "duration"),
        ("前のモデルからどのくらい間あいてた？", "duration"),
        ("how long between the two launches?", "duration"),
        ("what days did the outage last, first to last?", "date"),
    ],
)
def test_questions_say_what_they_ask_for(question: str, kind: str | None) -> None:
    assert asked_type(question) == kind


@pytest.mark.parametrize(
    ("sentence", "kind", "known", "holds"),
    [
        ("Labs will be led by Krieger alongside Ben Mann.", "person", ["Mike Krieger"], True),
        ("AI専門家のAndrej Karpathyは問題を発見しました。", "person", [], True),
        ("The company grew quickly in Europe.", "person", [], False),
        ("OmdiaのアナリストTorsten Volk氏は評価した。", "organization", ["Torsten Volk"], True),
        ("ルイジアナ州に建設する", "place", [], True),
        ("Support lasts until October 15, 2026.", "deadline", [], True),
        ("It shipped on December 28.", "date", [], True),
        ("Grok 5 is expected in Q1 2026.", "date", [], True),
        ("A one-month plan costs ¥150,000.", "money", [], True),
        ("4億ドルを投資した", "money", [], True),
        ("Affected users: 8 million", "count", [], True),
        ("Only 0.1% still choose it.", "percent", [], True),
        ("人間: 72.4%", "percent", ["72"], False),  # the question already says 72 %
        ("Grok 4.1 Thinking (Code name: quasarflux)", "name", [], True),
        ("built in a week and a half", "duration", [], True),
        ("約3ヶ月間利用可能です", "duration", [], True),
        ("2025年11月12日にリリースしました。", "duration", [], False),  # a year is no duration
        ("The model generates clips up to 20 seconds long.", "duration", [], True),
        ("最大20秒の動画を生成できます。", "duration", [], True),
        ("精度は3分の1になった", "duration", [], False),  # a fraction, not minutes
        ("最長1分の動画を生成できる", "duration", [], True),  # a minute's video
        ("It shipped mere weeks after its predecessor.", "duration", [], True),
        ("前モデルから数か月で公開された", "duration", [], True),
        ("Shares plunged nearly 12% on Monday", "change", [], True),
        ("Weekly downloads fell from 40M to 31M.", "change", [], True),
        ("The error rate was halved.", "change", [], True),
        ("The company was founded in Paris.", "change", [], False),
        ("On March 3, 2025, two publishers filed suit.", "count", [], False),  # a date
        ("Acme Principal Engineer Maria Lopez reports it.", "person", ["Acme"], True),
        ("The launch was first planned for early February.", "date", [], True),
        ("3月上旬に公開予定", "date", [], True),
        ("当初1月に予定していたリリースを前倒しした", "deadline", [], True),  # a month alone
        ("It was first slated for January.", "deadline", [], True),
        ("It will reach paying subscribers in the coming weeks.", "deadline", [], True),
        ("今後数週間以内に提供される", "deadline", [], True),
        ("It reached subscribers last week.", "deadline", [], False),
        ("Support for the desktop app is expected this week.", "deadline", [], True),
        ("A framework released by Block in early 2025.", "organization", [], True),
        ("It was released in early 2025.", "organization", [], False),
        ("新型は2027年に発売予定", "deadline", [], True),
        ("The firm raised money in 2024.", "deadline", [], False),
    ],
)
def test_sentences_hold_what_is_asked_for(
    sentence: str, kind: str, known: list[str], holds: bool
) -> None:
    assert (type_strength(sentence, kind, known) >= 0.6) is holds


def test_a_count_names_what_it_counts() -> None:
    assert counted_thing("Nano Banana Proって参照画像は何枚まで使える？") == ("枚",)
    assert counted_thing("how many different people can it keep?") == ("differ", "peopl")
    clear = type_strength("最大6枚の参照画像", "count", counted=("枚",))
    other = type_strength("Gemini 3 Proを搭載", "count", counted=("枚",))
    assert clear == 1.0 and 0 < other < clear
    assert type_strength("Lawsuits: ~18 against it", "count", counted=("suit",)) == 1.0


def test_a_name_the_question_gives_is_not_the_answer() -> None:
    sentence = "Jane Park, co-founder of Example Labs, is joining the research team."
    assert type_strength(sentence, "person") >= 0.6
    # "after park moved to research, who runs design?": Park is who it is asked about.
    assert type_strength(sentence, "person", (), {"after", "park", "moved"}) < 0.6


def test_a_job_title_written_with_a_capital_marks_the_name_beside_it_as_a_person() -> None:
    assert type_strength("Maria Lopez, President of Acme Robotics, said:", "person") == 1.0
