"""What a question asks for, and whether a sentence holds that kind of thing.

``asked_type(question)`` reads, in English and Japanese, what kind of answer a question
wants: a ``person`` (who, 誰), an ``organization`` (which company, どこの会社, 所属), a
``place`` (where, どこで), a ``date`` (when, いつ), a ``deadline`` (until when, いつまで;
when something is expected: "when is it supposed to ship", いつ出る予定), an
amount of ``money`` (how much, いくら), a ``count`` (how many, 何件), a ``percent`` (what
share, 何%), a ``change`` (how much did it grow, どれくらい下がった: a percentage, an amount,
a multiple or a "from … to …"), a ``name`` or codename (what is it called, コードネーム), a
``duration`` (how long, 何年間, 何秒), or a benchmark ``score`` (what did X score, スコア);
None for other questions.

``type_strength(sentence, kind, known)`` says how clearly a sentence holds such a thing,
in [0, 1]: patterns for numbers with their units, currencies, percentages, dates and
durations; for people, places and organizations Sudachi's parts of speech in Japanese
(固有名詞 with 人名, 地名, 組織名) and capitalized spans in English, leaving out what the
question itself names (``known``): the answer to "who works with Lisa Su" is not Lisa
Su.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from bot import text
from bot.lexicon import lexicon

_JAPANESE_CHARS = text.JAPANESE_RUN[1:-2]

__all__ = ["ANSWER_TYPES", "asked_type", "counted_thing", "type_strength"]

ANSWER_TYPES = (
    "change",
    "score",
    "person",
    "organization",
    "place",
    "date",
    "deadline",
    "money",
    "count",
    "percent",
    "name",
    "duration",
)

# An amount of money asked with "how much" in Japanese: "売上はどれくらい", "費用はどれくらい
# かかった" (an amount, though "かかった" alone reads as time).
_AMOUNT_HOW_MUCH = (
    r"(?:売上|売り上げ|収益|収入|費用|コスト|料金|価格|値段|お金|金額|資金|投資額|調達額|赤字|"
    r"損失|利益)[^。]{0,10}?(?:どれくらい|どのくらい|どれだけ|どんだけ)"
)

# Question patterns, most specific first: "until when" before "when", "how long" before
# "how many", "何年間" before "何年".
_QUESTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (
            # "Until when", and when something is expected to happen: "when is it supposed
            # to ship", "any timeframe?", "いつ出る予定", "いつ頃来るの".
            "deadline",
            r"\b(?:until|till|by) when\b|\bdeadline\b|いつまで|期限|締め切り|締切|"
            r"\bwhen (?:is|are|was|were|will|would|do|does)\b[^?.!]{0,60}?\b(?:supposed to|"
            r"expected|set to|slated|scheduled|planned|going to|due)\b|\bwhen will\b|"
            r"\b(?:any|what(?:'s| is)? the) (?:timeframe|time frame|eta|target date)\b|"
            r"いつ[^。？?]{0,8}?(?:予定|見込み|目標|目処|めど)|"
            r"(?:予定|見込み|目標|目処|めど)[^。？?]{0,6}?(?:いつ|何年|何月)|"
            r"いつ(?:頃|ごろ)?(?:に)?(?:出る|でる|出す|発売され|リリースされる|登場する|始まる|来る|くる|"
            r"消える|なくなる|無くなる|終わる|終了する|廃止される|使えなくなる|引退する)",
        ),
        (
            "duration",
            r"\bhow long\b|\bhow often\b|\bhow many (?:years|months|weeks|days|hours)\b|"
            r"\bfor how long\b|何年間|何ヶ月|何か月|何カ月|何週間|何日間|何時間|何分|何秒|"
            r"どのくらいの長さ|どれくらいの長さ|最長|"
            r"どのくらいの期間|どれくらいの期間|どのくらいで|どれくらいで|"
            r"何年(?:在籍|勤|務|働|かけ|かか|やっ|続け|い[たる])|"
            r"期間は|頻度|(?:どれくらい|どのくらい|どれだけ|どんだけ)[^?？。]{0,6}?(?:かか|掛か)|"
            r"(?:どれくらい|どのくらい|どれだけ|何年|何ヶ月|何か月)[^?？。]{0,3}?(?:間が?|あい|空い|開い)|"
            r"\bhow long (?:between|after|since)\b",
        ),
        (
            # How much something grew or fell: answered by a percentage, an amount, a
            # multiple or a "from … to …", whatever unit the story uses.
            "change",
            r"\b(?:by )?how much (?:did|does|do|has|have|had|will|would|is|was)\b[^?.!]{0,60}?"
            r"\b(?:grow|grew|grown|rise|rose|risen|drop|dropped|fall|fell|fallen|decline|"
            r"declined|increase|increased|decrease|decreased|jump|jumped|surge|surged|plunge|"
            r"plunged|tank|tanked|slide|slid|climb|climbed|shrink|shrank|improve|improved|"
            r"reduce|reduced|go up|go down|went up|went down)\b|"
            r"\bhow much (?:higher|lower|faster|slower|cheaper|bigger|smaller|better)\b|"
            r"(?:どれくらい|どのくらい|どれだけ|どんだけ|何%|何パーセント|何割)[^?？。]{0,12}?"
            r"(?:下が|上が|伸び|増え|増加|減っ|減少|落ち|低下|上昇|成長|削減|改善|向上|縮小|"
            r"拡大|下落|急落|暴落|値下が|値上が)",
        ),
        (
            "percent",
            r"\bwhat (?:share|percent(?:age)?|portion|fraction|proportion)\b|\bpercent(?:age)?\b|"
            r"\bshare of\b|何%|何パーセント|何割|割合|比率|シェア",
        ),
        (
            "money",
            r"\bhow much\b(?! (?:time|longer|faster|more time))|\bwhat (?:price|amount)\b|"
            r"\bcost\b|\bprice\b|\bvaluation\b|\bworth\b|いくら|金額|額は|費用|価格|料金|何円|"
            r"\bhow (?:big|large|huge) (?:is|was|were|are)\b[^?.!]{0,40}?\b(?:deal|lease|"
            r"investment|round|funding|contract|raise|acquisition|check|budget|commitment|fine|"
            r"settlement|package|bet)s?\b|"
            rf"何ドル|何億|評価額|時価総額|{_AMOUNT_HOW_MUCH}",
        ),
        (
            "count",
            r"\bhow many\b|\bnumber of\b|何件|何人|何個|何社|何台|何枚|何本|何回|いくつ|何種類|"
            r"何カ国|何か国|何ヶ国|数は",
        ),
        (
            "name",
            r"\bcode ?name\b|\bwhat(?:'s| is| was) (?:it |the \w+ )?(?:called|named)\b|"
            r"\bwhat(?:'s| is| was) the name\b|\bname of\b|\bcalled\b|コードネーム|"
            r"名前|名称|何という|なんという|何て名前|呼ばれ",
        ),
        (
            "organization",
            r"\bwhich (?:[\w-]+ )?(?:company|companies|firm|organi[sz]ation|lab|startup|group|"
            r"bank|agency|research firm|publisher|vc|fund|team|club|outlet|newspaper|"
            r"university|vendor|manufacturer|regulator)s?\b|"
            r"\bwhat (?:company|firm|organi[sz]ation|vc|fund|team|outlet)\b|"
            r"\bwho (?:owns|acquired|bought|backs|funds)\b|\bparent company\b|"
            r"どの企業|どこの企業|どの会社|どこの会社|どの組織|どこの組織|どこの所属|所属|"
            r"どこが|どこと|どの団体|傘下|"
            r"(?:会社|企業|メーカー|団体|組織|スタートアップ|機関)[^。]{0,15}?どこ|"
            r"どこの(?:vc|ベンチャーキャピタル|ファンド|投資会社|銀行|メーカー|ベンダー|研究所|"
            r"大学|メディア|新聞|調査会社|チーム|クラブ|ラボ|スタートアップ|団体|組織)",
        ),
        (
            "place",
            r"\bwhere\b|\bwhich (?:country|city|region|state|venue|location)\b|"
            r"どこで|どこに|どの国|どこの国|どの都市|どの地域|どのリージョン|場所|どこ",
        ),
        (
            "person",
            r"\bwho\b|\bwhom\b|\bwhich (?:[\w-]+ ){0,2}(?:person|people|engineer|researcher|"
            r"executive|exec|ceo|cto|cfo|coo|founder|co-?founder|analyst|scientist|official|"
            r"employee|investor|reporter|journalist|author|professor|lawyer|judge|lawmaker|"
            r"senator|minister|leader|manager|director|designer|developer)s?\b|"
            r"誰|だれ|何者|どなた|どの人|どのエンジニア|どの研究者|どの幹部|どの役員",
        ),
        ("score", r"\bscore[ds]?\b|\bbenchmark results?\b|スコア|何点|点数|成績"),
        (
            "date",
            r"\bwhen\b|\bwhat (?:date|day|month|year)s?\b|\bwhich (?:date|day|month|year)s?\b|"
            r"いつ|何月|何日|何年",
        ),
    )
)

_NUMBER = r"\d[\d,]*(?:\.\d+)?"
_MONEY_RE = re.compile(
    rf"[$¥€£]\s?{_NUMBER}|{_NUMBER}\s*(?:[万億兆]\s*)?(?:円|ドル|ユーロ|ポンド|元)|"
    rf"{_NUMBER}\s*(?:million|billion|trillion|[mbk]n?)?\s*(?:dollars|usd|yen|euros?)\b|"
    rf"(?:us\$|\$){_NUMBER}",
    re.IGNORECASE,
)
_PERCENT_RE = re.compile(rf"{_NUMBER}\s*(?:%|％|パーセント|percent\b)", re.IGNORECASE)
_DURATION_RE = re.compile(
    rf"(?:{_NUMBER}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a few|several)"
    r"[\s-]*(?:and a half\s+)?(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|secs?)\b|"
    r"(?<![\d,.])\d{1,2}(?:\.\d+)?\s*(?:年間|年半|年(?!\d|度))|"
    rf"{_NUMBER}\s*(?:ヶ月|か月|カ月|ヵ月|週間|日間|時間|分間)|週間半|"
    # Seconds and minutes: "最大60秒", "約30分で", "1分の動画" (not "3分の1", "15時30分").
    rf"(?<![時:\d]){_NUMBER}\s*(?:秒|分(?!の[\d一二三四五六七八九十]|[析類散割野担]))|"
    r"\b(?:a|one) (?:week|month|year) and a half\b|\bevery \w+ (?:hours?|days?|weeks?)\b|"
    # Spans given without a number: "just weeks after", "数週間後".
    r"\b(?:days|weeks|months|years) (?:after|later|before|earlier)\b|"
    r"数(?:日|週間|ヶ月|か月|カ月|ヵ月|年)",
    re.IGNORECASE,
)
_FULL_DATE_RE = re.compile(
    r"\d{4}年\s*\d{1,2}月(?:\s*\d{1,2}日)?|\d{1,2}月\s*\d{1,2}日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?"
    r"(?:,? \d{4})?\b|\b\d{1,2} (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{4}\b",
    re.IGNORECASE,
)
_YEAR_RE = re.compile(r"\b(?:19|20)\d{2}\b|\d{4}年|年末|年度|end of \d{4}", re.IGNORECASE)
# A month named alone ("当初1月に予定", "planned for January"): a date less clearly ("may"
# is left out: it is mostly the verb).
_BARE_MONTH_RE = re.compile(
    r"(?<![\d年])\d{1,2}月(?!\d)|\b(?:january|february|march|april|june|july|august|"
    r"september|october|november|december)\b",
    re.IGNORECASE,
)
# A part of a year or a quarter is as good an answer to "when" as a day: "early 2026",
# "Q1 2026", "2026年初頭", "2026年第1四半期".
_PART_OF_YEAR_RE = re.compile(
    r"\b(?:early|mid|late|end of|beginning of|first half of|second half of)[\s-]*\d{4}\b|"
    r"\bq[1-4]\s*\d{4}\b|\b(?:spring|summer|fall|autumn|winter)\s+\d{4}\b|"
    r"\d{4}年\s*(?:初頭|初め|前半|後半|末|中|第[1-4一二三四]四半期|春|夏|秋|冬)|"
    # A part of a month: "early January", "mid-March", "1月上旬", "3月末".
    r"\b(?:early|mid|late|end of|beginning of)[\s-]+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|"
    r"nov|dec)[a-z]*\b|\d{1,2}月\s*(?:上旬|中旬|下旬|初旬|初め|末|中)",
    re.IGNORECASE,
)
# A deadline given as time from now: "in the coming weeks", "within 30 days", "数週間以内".
_RELATIVE_DEADLINE_RE = re.compile(
    r"\b(?:in|within|over) the (?:coming|next) (?:few |several )?(?:days|weeks|months)\b|"
    r"\bcoming (?:days|weeks|months)\b|\bwithin (?:\d+|a|one|two|three|a few) "
    r"(?:days?|weeks?|months?)\b|\b(?:this|next) (?:week|month)\b|"
    r"\blater this (?:week|month|year)\b|(?:数|\d+)(?:日|週間|か月|ヶ月|カ月)以内|"
    r"今後数(?:日|週間|か月|ヶ月|カ月)|今週中|来週|今月中|来月|年内",
    re.IGNORECASE,
)
# A change as a multiple or a move between two values: "3x", "2倍", "doubled", "半減",
# "3分の1", "from 12.09% to 4.22%", "203M→158M".
_MULTIPLE_RE = re.compile(
    rf"{_NUMBER}\s*(?:x|×|倍)(?![a-z])|\b(?:doubled|tripled|quadrupled|halved|twice|"
    r"two-fold|threefold|tenfold)\b|半減|倍増|\d+分の\d+",
    re.IGNORECASE,
)
_FROM_TO_RE = re.compile(
    rf"\bfrom\s+\S*{_NUMBER}\S*\s+to\s+\S*{_NUMBER}|{_NUMBER}\S*\s*(?:→|->|から)\s*\S*{_NUMBER}",
    re.IGNORECASE,
)
# Words that make a date a limit or a plan: "until", "expected", "slated", "予定", "目指す".
_DEADLINE_RE = re.compile(
    r"\b(?:until|till|through|by|before|no later than|deadline|expires?|ends?|guaranteed|"
    r"expected|slated|scheduled|planned|plans? to|set to|due|will|targets?|targeting)\b|"
    r"まで|までに|期限|以降|終了|予定|見込み|目指",
    re.IGNORECASE,
)
_QUOTED_RE = re.compile(
    r"「[^」]{1,40}」|『[^』]{1,40}』|\"[^\"]{1,40}\"|“[^”]{1,40}”|'[^'\s][^']{0,38}'"
)
_NAMING_RE = re.compile(
    r"\bcode ?named?\b|\bcalled\b|\bnamed\b|\bdubbed\b|\bknown as\b|コードネーム|名称|"
    r"という名前|と呼ばれ|と名付け|と命名",
    re.IGNORECASE,
)
# Two or more capitalized words (a person's name, an organization), or one with inner
# capitals (OpenAI, DeepMind) or in capitals (NVIDIA, NTT).
_CAPITALIZED_SPAN_RE = re.compile(
    r"(?<![A-Za-z])[A-Z][a-zA-Z'’.\-]*(?:\s+(?:of\s+|de\s+|van\s+)?[A-Z][a-zA-Z'’.\-]*)+|"
    r"(?<![A-Za-z])[A-Z][a-z]+[A-Z][A-Za-z]*(?![A-Za-z])|(?<![A-Za-z])[A-Z]{2,}[a-z]?(?![A-Za-z])"
)
# A Latin word inside Japanese text is capitalized on purpose: a name (IDCのアナリストX氏).
_LATIN_IN_JAPANESE_RE = re.compile(
    rf"(?<=[{_JAPANESE_CHARS}])[A-Z][A-Za-z0-9&.\-]+(?:\s[A-Z][A-Za-z0-9&.\-]+)*|"
    rf"[A-Z][A-Za-z0-9&.\-]+(?:\s[A-Z][A-Za-z0-9&.\-]+)*(?=[{_JAPANESE_CHARS}])"
)
# The last word of an organization's name: "SoftBank Group" is no person.
_ORGANIZATION_END_RE = re.compile(
    r"\b(?:Group|Inc|Corp|Corporation|Co|Ltd|LLC|Labs?|AI|Technologies|Technology|Systems|"
    r"Foundation|University|Institute|Agency|Company|Partners|Capital|Ventures|Bank|Fund)\.?$"
)
# Words of job titles and roles: a capitalized span made of them is no person's name.
_TITLE_WORDS = frozenset(
    """ceo cto cpo coo cfo chief officer president vice director head founder co-founder
    cofounder chairman chair executive product technology operating financial senior
    principal lead manager engineer scientist researcher analyst professor expert partner
    general counsel secretary minister commissioner the a an of and ai""".split()
)
_PERSON_TITLE_RE = re.compile(
    r"\b(?:CEO|CTO|CPO|COO|CFO|founder|co-founder|cofounder|creator|president|chief|director|"
    r"head|researcher|analyst|professor|engineer|scientist|executive|expert|VP|Mr|Ms|Dr|"
    r"led by|alongside)\b|氏|さん|教授|創業者|社長|代表|専門家|研究者|責任者|CEO",
    re.IGNORECASE,  # "President of Adobe" as "the president"
)
# A capitalized word after "by" or "from" names who made or did something ("released by
# Block"), even as one word that no span pattern takes for a name.
_MADE_BY_RE = re.compile(r"\b(?:by|from)\s+(?:the\s+)?[A-Z][a-z][A-Za-z]*(?:\s+[A-Z][A-Za-z]+)*")
_PLACE_WORD_RE = re.compile(
    r"\b(?:in|at|near|from|across|throughout)\s+(?:the\s+)?[A-Z][A-Za-z]+|"
    r"\b(?:region|city|state|country|headquarters|hotel|campus)\b|リージョン|州|市|県|国",
)


# "Who can use it?" asks for an audience (plans, users, countries), not a person's name:
# such a question is scored as one without a kind.
_AUDIENCE_QUESTION_RE = re.compile(
    r"\bwho (?:can|could|may|gets? to|is eligible|are eligible|has access|have access)\b|"
    r"誰が(?:使え|利用でき|使用でき|使える|対象)|誰でも",
    re.IGNORECASE,
)


_AMOUNT_QUESTION_RE = re.compile(_AMOUNT_HOW_MUCH)


def asked_type(question: str) -> str | None:
    """The kind of answer ``question`` asks for (one of ``ANSWER_TYPES``), or None (also
    for "who can use it?", which asks for an audience rather than a name)."""
    folded = text.normalize(question)
    for kind, pattern in _QUESTION_PATTERNS:
        if pattern.search(folded):
            if kind == "person" and _AUDIENCE_QUESTION_RE.search(folded):
                return None
            if kind == "duration" and _AMOUNT_QUESTION_RE.search(folded):
                return "money"  # "費用はどれくらいかかった": an amount, not a time
            return kind
    return None


# What a count question counts: a Japanese counter after 何 (何枚, 何社, 何職種) or the noun
# after "how many" (users, countries).
_JAPANESE_COUNTER_RE = re.compile(
    r"何\s*(枚|人|名|件|社|個|回|本|台|種類|職種|カ国|か国|ヶ国|言語|冊|店舗|校|機種|チーム)"
)
_ENGLISH_COUNTED_RE = re.compile(r"\bhow many ((?:[a-z][a-z-]+ ?){1,3})")


def counted_thing(question: str) -> tuple[str, ...]:
    """What a count question counts, to find in the answer with its number: the counter
    of ``何枚``/``何社``… (``("枚",)``), or the stems of the words among the three after
    "how many" that are no stopwords (``("differ", "peopl")`` for "how many different
    people can…"); ``()`` when it names none."""
    folded = text.normalize(question)
    counter = _JAPANESE_COUNTER_RE.search(folded)
    if counter:
        return (counter[1],)
    words = _ENGLISH_COUNTED_RE.search(folded)
    if words is None:
        return ()
    stopwords = lexicon()
    return tuple(
        text.stem(word)
        for word in words[1].split()
        if len(word) >= 3 and not stopwords.is_stopword(word)
    )


def _without(sentence: str, known: Collection[str]) -> str:
    """``sentence`` with what the question itself gives removed (case-insensitive): its
    names, and its numbers with their decimals and units ("72%" takes "72.4%" out: the
    question already says it)."""
    kept = sentence
    for name in sorted(known, key=len, reverse=True):
        if re.fullmatch(r"\d+(?:\.\d+)?", name):
            kept = re.sub(rf"(?<![\d.,]){re.escape(name)}(?:\.\d+)?\s*[%％]?", " ", kept)
        elif len(name) >= 2:
            kept = re.sub(re.escape(name), " ", kept, flags=re.IGNORECASE)
    return kept


def _without_titles(span: str) -> str:
    """The person's name in a capitalized ``span``, the job title before or after it left
    out ("Google Principal Engineer Jaana Dogan" with "Google" known → "Jaana Dogan"), or
    "" when what remains is no name: fewer than two words, a title word inside, or an
    organization's name ("SoftBank Group")."""
    words = span.split()
    while words and words[0].casefold().strip(".,'’") in _TITLE_WORDS:
        words.pop(0)
    while words and words[-1].casefold().strip(".,'’") in _TITLE_WORDS:
        words.pop()
    name = " ".join(words)
    if len(words) < 2 or any(w.casefold().strip(".,'’") in _TITLE_WORDS for w in words):
        return ""
    return "" if _ORGANIZATION_END_RE.search(name) else name


def _undated(sentence: str) -> str:
    """``sentence`` without its dates and years: "November 26, 2025" counts nothing."""
    return _YEAR_RE.sub(" ", _PART_OF_YEAR_RE.sub(" ", _FULL_DATE_RE.sub(" ", sentence)))


def _japanese_proper_nouns(sentence: str, detail: str) -> int:
    """How many Sudachi proper nouns of ``detail`` (人名, 地名, 組織名) the sentence holds."""
    count = 0
    for run in re.findall(text.JAPANESE_RUN, sentence):
        for morpheme in text.japanese_morphemes(run):
            pos = morpheme.pos
            if len(pos) > 2 and pos[1] == "固有名詞" and pos[2] == detail:
                count += 1
    return count


def type_strength(
    sentence: str,
    kind: str | None,
    known: Collection[str] = (),
    asked_words: Collection[str] = (),
    counted: Sequence[str] = (),
) -> float:
    """How clearly ``sentence`` (plain text) holds an answer of ``kind``, in [0, 1]: 1 for a
    clear one (a percentage for ``percent``, a full date for ``date``), less for a weaker
    sign (a bare year for ``date``, a number for ``money``), 0 for none. ``known`` are the
    names the question gives, which are never the answer. ``asked_words`` are the
    question's Latin words, casefolded: for ``person``, a name holding one of them is the
    person asked about ("after krieger moved…" → "Mike Krieger"), not the answer.
    ``counted`` (``counted_thing``): for ``count``, a number without the thing counted
    counts 0.6. Returns 0 for ``kind`` None."""
    if kind is None:
        return 0.0
    rest = _without(sentence, known)
    if kind == "change":
        if _PERCENT_RE.search(rest):
            return 1.0
        if _MONEY_RE.search(rest) or _MULTIPLE_RE.search(rest) or _FROM_TO_RE.search(rest):
            return 0.8
        return 0.3 if re.search(r"\d", _undated(rest)) else 0.0
    if kind == "percent":
        return 1.0 if _PERCENT_RE.search(rest) else 0.0
    if kind == "score":
        if _PERCENT_RE.search(rest):
            return 1.0
        return 0.7 if re.search(rf"{_NUMBER}\s*(?:elo|points?|点)?", rest, re.IGNORECASE) else 0.0
    if kind == "money":
        if _MONEY_RE.search(rest):
            return 1.0
        return 0.4 if re.search(rf"{_NUMBER}\s*(?:million|billion|億|万)", rest) else 0.0
    if kind == "duration":
        return 1.0 if _DURATION_RE.search(rest) else 0.0
    if kind == "date":
        if _FULL_DATE_RE.search(rest) or _PART_OF_YEAR_RE.search(rest):
            return 1.0
        return 0.5 if _YEAR_RE.search(rest) or _BARE_MONTH_RE.search(rest) else 0.0
    if kind == "deadline":
        full = _FULL_DATE_RE.search(rest) or _PART_OF_YEAR_RE.search(rest)
        year = _YEAR_RE.search(rest) or _BARE_MONTH_RE.search(rest)
        dated = 1.0 if full else (0.75 if year else 0.0)
        if not dated and _RELATIVE_DEADLINE_RE.search(rest):
            return 0.8
        return dated if _DEADLINE_RE.search(rest) else 0.7 * dated
    if kind == "count":
        if _PERCENT_RE.search(rest) and not re.sub(_PERCENT_RE, "", rest).strip():
            return 0.0
        plain = _PERCENT_RE.sub(" ", _MONEY_RE.sub(" ", _undated(rest)))
        if not re.search(r"\d", plain):
            return 0.0
        if not counted:
            return 1.0
        # A number with the thing counted ("最大6枚", "over 2 million users", "lawsuits:
        # ~18") is the answer; another number less clearly so.
        if not counted[0].isascii():
            beside = re.search(rf"{_NUMBER}\s*(?:[万千億]\s*)?{re.escape(counted[0])}", plain)
            return 1.0 if beside else 0.6
        lowered = plain.casefold()
        return 1.0 if any(stem in lowered for stem in counted) else 0.6
    if kind == "name":
        if _NAMING_RE.search(rest):
            return 1.0
        if _QUOTED_RE.search(rest):
            return 0.5
        # A Latin word in Japanese text names something ("gVisorベース").
        return (
            0.4 if re.search(rf"[a-zA-Z][a-zA-Z0-9\-]{{2,}}(?=[{_JAPANESE_CHARS}])", rest) else 0.0
        )
    spans = [s for s in _CAPITALIZED_SPAN_RE.findall(rest) if s.strip()]
    spans += _LATIN_IN_JAPANESE_RE.findall(rest)
    if kind == "person":
        if _japanese_proper_nouns(rest, "人名"):
            return 1.0
        names = [
            name
            for name in map(_without_titles, spans)
            if name and not any(w.casefold().strip(".,'’") in asked_words for w in name.split())
        ]
        if names and _PERSON_TITLE_RE.search(rest):
            return 1.0
        return 0.6 if names else (0.3 if _PERSON_TITLE_RE.search(rest) else 0.0)
    if kind == "organization":
        if _japanese_proper_nouns(rest, "組織名") or spans:
            return 1.0
        if _MADE_BY_RE.search(rest):
            return 0.8
        return 0.3 if re.search(r"[ァ-ヺー]{3,}(?:社|グループ)", rest) else 0.0
    if kind == "place":
        if _japanese_proper_nouns(rest, "地名"):
            return 1.0
        return 1.0 if _PLACE_WORD_RE.search(rest) else (0.3 if spans else 0.0)
    return 0.0
