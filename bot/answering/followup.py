"""Follow-up questions: detect elliptical ones and rewrite them into standalone questions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.prompts import render
from bot.textnorm import han_count, to_simplified


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a chat: what was asked, what it meant on its own, what was answered."""

    question: str
    answer: str = ""
    standalone: str = ""  # the rewritten standalone question ("" when it was already standalone)

    @property
    def resolved(self) -> str:
        """The question as it was understood."""
        return self.standalone or self.question


_LEADERS = ("那么", "那", "还有", "另外", "此外", "再问", "然后", "那个")
_PRONOUNS = (
    "它们",
    "它",
    "这个",
    "这些",
    "这项",
    "这种",
    "这方面",
    "那个",
    "该",
    "其",
    "上述",
    "此项",
    "前者",
    "后者",
)
_TAIL_RE = re.compile(r"(呢|吗|呀|啊|咧)?[？?。！!\s]*$")
_QUESTION_WORDS = re.compile(
    r"(什么是|是什么|有什么|有哪些|是哪些|什么样的?|什么|怎么样|怎么|怎样|如何|哪些|哪个|多少|为什么|吗|呢)"
)
_PUNCT_RE = re.compile(r"[？?。！!，,、；;：:“”\"'（）()\s]")
_SHORT_HAN = 8  # a question this short with a leader or 呢 is elliptical


def is_followup(question: str) -> bool:
    """True when the question leans on an earlier turn (那…呢, 还有…, 它/这个/该…)."""
    q = to_simplified(question).strip()
    if not q:
        return False
    starts = q.startswith(_LEADERS)
    ends_ne = bool(re.search(r"呢[？?。！!\s]*$", q))
    pronoun = any(p in q for p in _PRONOUNS if p not in ("其",)) or q.startswith("其")
    if pronoun:
        return True
    return (starts or ends_ne) and han_count(q) <= _SHORT_HAN + 4


def topic_of(question: str) -> str:
    """The subject matter of a question: the question without interrogatives and punctuation."""
    text = _QUESTION_WORDS.sub("", question)
    return _PUNCT_RE.sub("", text)


def _core(followup: str) -> str:
    """The follow-up without leading connectives and trailing particles."""
    q = followup.strip()
    for lead in _LEADERS:
        if q.startswith(lead):
            q = q[len(lead) :].lstrip("，,、 ")
            break
    return _TAIL_RE.sub("", q)


_ORG_RE = re.compile(r"(政协|机关|办公室|办公厅|委员会|专委会|党委|政府|部门|单位|界别|[省市县区])$")


def _split_subject(previous: str) -> tuple[str, str]:
    """The previous question split before its first verb or question word: (subject, predicate)."""
    import jieba.posseg as pseg

    words = list(pseg.cut(previous))
    for i, w in enumerate(words):
        if i > 0 and (w.flag.startswith("v") or _QUESTION_WORDS.fullmatch(w.word)):
            return "".join(x.word for x in words[:i]), "".join(x.word for x in words[i:])
    return previous, ""


def _merge(previous: str, core: str) -> str:
    """ "那X呢": an X of the subject's kind takes the previous predicate; any other X is scoped by the subject."""
    subject, predicate = _split_subject(previous)
    if not predicate:
        return f"{core} {previous}"
    same_kind = len(core) >= 3 and core[-2:] in previous[: len(core) + 2]  # "对外协调" after "对上协调…"
    if _ORG_RE.search(core) or same_kind:  # "那山东省政协呢？" after "广州市政协要建设什么样的机关？"
        if core[-2:] in previous[: len(core) + 2]:
            predicate = previous[previous.index(core[-2:]) + 2 :]  # "对外协调" + "要注意什么"
        return core + predicate
    return f"{_PUNCT_RE.sub('', subject)}{core}"  # "那联络服务呢？" after "河南省政协怎样提升…？"


def rule_rewrite(question: str, history: list[Turn]) -> str:
    """Standalone question by rules: substitute pronouns or swap the subject of the previous question."""
    if not history or not is_followup(question):
        return question
    previous = history[-1].resolved
    prev_topic = topic_of(previous)
    core = _core(question)
    for pronoun in _PRONOUNS:
        if pronoun in core:
            return core.replace(pronoun, prev_topic, 1) + "？"
    if not core or core in ("还有", "其他", "别的", "还有哪些", "其他的"):
        return previous  # "还有呢？": the same topic again
    if _QUESTION_WORDS.search(core):
        return f"{prev_topic}：{core}？"  # "还有哪些要求？": keep the asked aspect, add the topic
    return _merge(previous, core)


def history_text(history: list[Turn], answer_chars: int = 200) -> str:
    """The history block of the condense prompt."""
    lines = []
    for turn in history:
        lines.append(f"委员：{turn.resolved}")
        if turn.answer:
            answer = turn.answer if len(turn.answer) <= answer_chars else turn.answer[:answer_chars] + "…"
            lines.append(f"助手：{answer}")
    return "\n".join(lines)


def condense_prompt(question: str, history: list[Turn]) -> str:
    """The rendered condense prompt (history and follow-up as delimited data)."""
    from bot.answering.citations import as_data

    return render("condense_question", history=as_data(history_text(history)), question=as_data(question))


def clean_condensed(output: str, question: str) -> str | None:
    """The model's condensed question, or None when unusable (empty, too long, or it dropped the follow-up's words)."""
    text = output.strip().splitlines()[0].strip() if output.strip() else ""
    text = re.sub(r"^(独立问题|改写后的问题|問題|问题|委员|委員)[:：]\s*", "", text).strip("“”\"' ")
    if not text or han_count(text) < 2 or len(text) > max(80, 4 * len(question)):
        return None
    core = to_simplified(_core(question))
    for word in _PRONOUNS:
        core = core.replace(word, "")
    wanted = [ch for ch in core if "\u4e00" <= ch <= "\u9fff"]
    kept = sum(ch in to_simplified(text) for ch in wanted)
    if wanted and kept < 0.6 * len(wanted):  # a rewrite keeps what the member just asked about
        return None
    return text
