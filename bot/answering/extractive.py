"""The default answerer: quotes the sentences that answer, from the best passages, with citations; or declines."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.answering.decision import Decision, decide, signals
from bot.answering.intake import classify, searchable
from bot.answering.types import Answer, Citation, Passage
from bot.knowledge.analysis import term_set
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.chunking import sentence_spans
from bot.knowledge.retrieval import answer_type_bonus, asked_thing, asked_unit, has_thing, has_unit_answer
from bot.prompts import render, render_for
from bot.settings import Settings
from bot.textnorm import is_traditional

MAX_CITATIONS = 2
SECOND_PASSAGE_RATIO = 0.85  # a second passage is quoted only when it scores nearly as well as the first
MAX_QUOTE_CHARS = 220  # the quote from one passage stays short enough to read on a phone
MAX_QUESTION_CHARS = 500
UNIT_PASSAGES = (
    3  # a quantity question declines when none of this many best passages has a number in its unit
)


@dataclass
class _Quote:
    passage: Passage
    sentences: list[str]
    score: float


class ExtractiveAnswerer:
    """Answers with the documents' own words; never writes anything the documents do not say."""

    def __init__(self, knowledge: KnowledgeBase, settings: Settings) -> None:
        self.knowledge = knowledge
        self.settings = settings

    def answer(self, question: str) -> Answer:
        """Answer a question from the knowledge base, or decline."""
        started = time.perf_counter()
        question = (question or "").strip()[:MAX_QUESTION_CHARS]
        traditional = is_traditional(question)
        if not question:
            meta = {"mode": "empty", "decision": "chat"}
            return Answer(question, render("answers/empty"), True, traditional=traditional, meta=meta)
        kind = classify(question)
        if kind != "question":  # markup, emoji, a greeting: never a quote, and no gap in the knowledge base
            text, meta = render_for(f"answers/{kind}", traditional), {"mode": kind, "decision": "chat"}
            return Answer(question, text, True, traditional=traditional, meta=meta)
        result = self.knowledge.retrieve(searchable(question))
        passages = result.passages
        decision = self._decide(question, result)
        if result.missing_in:  # 「代表法第六十六条」 when the 代表法 has 65 articles
            text = render_for(
                "answers/article_missing", traditional, title=result.missing_in, label=result.article
            )
            answer = Answer(question, text, True, [], [], traditional=traditional)
            answer.meta = {"mode": "article_missing", **_decision_meta(decision)}
        elif not passages or not decision.answer:
            text = render_for("answers/decline", traditional, question=question)
            answer = Answer(question, text, True, [], passages, traditional=traditional)
            answer.meta = {"mode": "declined", **_decision_meta(decision)}
        else:
            quotes = (
                self._article_quotes(passages)
                if result.article
                else self._quotes(question, result.terms, passages)
            )
            citations = [
                Citation(
                    q.passage.chunk_id,
                    q.passage.doc,
                    q.passage.title,
                    q.passage.section,
                    q.passage.text,
                    "".join(q.sentences),
                    ocr=self._from_ocr(q.passage.chunk_id),
                )
                for q in quotes
            ]
            body = "\n".join(
                render_for("answers/quote", traditional, quote=c.quote, label=c.label())
                + (render_for("answers/ocr_note", traditional) if c.ocr else "")
                for c in citations
            )
            text = render_for("answers/extractive", traditional, quotes=body)
            others = [p.title for p in passages if result.article and p.doc != passages[0].doc]
            if others:
                names = "、".join(f"《{t}》" for t in dict.fromkeys(others))
                text += "\n\n" + render_for("answers/article_others", traditional, titles=names)
            answer = Answer(question, text, False, citations, passages, traditional=traditional)
            answer.meta = {"mode": "extractive", **_decision_meta(decision)}
        answer.ms = (time.perf_counter() - started) * 1000
        return answer

    def _decide(self, question: str, result) -> Decision:
        """The calibrated decision; a named article that exists is always answered."""
        top = result.passages[0] if result.passages else None
        values = signals(
            question,
            result.own,
            self.knowledge.lexical.idf,
            result.evidence,
            result.penalty,
            top,
            result.cosines,
            self._present_terms,
        )
        if result.article and top is not None:
            return Decision(True, 1.0, values, f"问题指明了{result.article}")
        unit = asked_unit(question)
        if unit is not None and not any(
            has_unit_answer(unit, p.text) for p in result.passages[:UNIT_PASSAGES]
        ):
            # 「要写多少字」 with no passage giving a count in 字: whatever the passages share with the question, they do
            # not hold what it asks (checked on every labelled set: no answerable question is declined by this).
            return Decision(False, 0.0, values | {"unit_miss": 1.0}, f"文档中没有问题所问的数量（{unit}）")
        thing = asked_thing(question)
        if thing is not None and not any(has_thing(thing, p.text) for p in result.passages[:UNIT_PASSAGES]):
            return Decision(False, 0.0, values | {"thing_miss": 1.0}, f"文档中没有问题所问的{thing}")
        return decide(values, threshold=self.settings.decline_confidence)

    def _present_terms(self, passage: Passage, terms) -> set[str] | None:
        """Which of `terms` the passage's chunk has, from the index's postings (None: not that chunk's text)."""
        lexical = self.knowledge.lexical
        chunk = lexical.get(passage.chunk_id)
        same = chunk is not None and (chunk.title, chunk.section, chunk.text) == (
            passage.title,
            passage.section,
            passage.text,
        )
        return lexical.present_terms(passage.chunk_id, terms) if same else None

    def _from_ocr(self, chunk_id: str) -> bool:
        chunk = self.knowledge.chunk(chunk_id)
        return bool(chunk is not None and chunk.ocr)

    def _article_quotes(self, passages: list[Passage]) -> list[_Quote]:
        """A named article, whole: every chunk of the first document's article, in order."""
        first = passages[0]
        return [_Quote(p, [p.text.strip()], p.score) for p in passages if p.doc == first.doc]

    def _quotes(self, question: str, terms: dict[str, float], passages: list[Passage]) -> list[_Quote]:
        """The best sentences of the first passage, and of the next one when it is nearly as good."""
        quotes = [self._best_sentences(question, terms, passages[0])]
        for passage in passages[1:MAX_CITATIONS]:
            if passage.doc == passages[0].doc and passage.section == passages[0].section:
                continue  # the same section says it once
            if passage.score >= SECOND_PASSAGE_RATIO * passages[0].score:
                quote = self._best_sentences(question, terms, passage)
                if quote.score >= SECOND_PASSAGE_RATIO * quotes[0].score:
                    quotes.append(quote)
        return quotes

    def _sentence_scores(self, question: str, terms: dict[str, float], sentences: list[str]) -> list[float]:
        """How well each sentence matches the question (idf-weighted terms, plus the answer-type bonus)."""
        scores = []
        for sentence in sentences:
            present = term_set(sentence)
            score = sum(w * self.knowledge.lexical.idf(t) for t, w in terms.items() if t in present)
            scores.append(score + answer_type_bonus(question, sentence) * max(score, 1.0) * 0.5)
        return scores

    def _best_sentences(self, question: str, terms: dict[str, float], passage: Passage) -> _Quote:
        """The passage's best-matching sentence, with its neighbour when the sentence alone is very short.

        The quote is one contiguous slice of the passage text (line breaks included), never re-joined pieces.
        """
        spans = sentence_spans(passage.text) or [(0, len(passage.text))]
        sentences = [passage.text[a:b] for a, b in spans]
        scores = self._sentence_scores(question, terms, sentences)
        if len(passage.text) <= MAX_QUOTE_CHARS:  # a short passage (an article, say) is quoted whole
            return _Quote(passage, [passage.text.strip()], max(scores))
        best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
        first = last = best
        if len(sentences[best]) < 40:  # a short sentence reads better with the next (or previous) one
            extra = best + 1 if best + 1 < len(sentences) else best - 1
            if extra >= 0 and len(sentences[best]) + len(sentences[extra]) <= MAX_QUOTE_CHARS:
                first, last = min(best, extra), max(best, extra)
        quote = passage.text[spans[first][0] : spans[last][1]]
        if len(quote) > MAX_QUOTE_CHARS:
            quote = sentences[best]
        return _Quote(passage, [quote], scores[best])


def _decision_meta(decision: Decision) -> dict:
    """The decision in an answer's meta: evidence, confidence, why, and the signals (rounded)."""
    return {
        "evidence": round(decision.signals.get("evidence", 0.0), 4),
        "confidence": round(decision.confidence, 4),
        "why": decision.why,
        "signals": {k: round(v, 4) for k, v in decision.signals.items()},
    }
