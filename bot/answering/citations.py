"""Numbered passages for a prompt, and validation of the [n] markers a model writes after generation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.answering.types import Citation, Passage
from bot.prompts import render

# [1], [1][2], [1, 2], [1，2] and their full-width forms ［1］, 【1】.
MARKER_RE = re.compile(r"[\[［【]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]］】]")
_SENTENCE_RE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")

# Characters that could forge a delimiter or a marker inside data are swapped for full-width look-alikes.
_DATA_ESCAPES = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］", "【": "［", "】": "］"})


def as_data(text: str) -> str:
    """Neutralise delimiter and marker characters in untrusted text (a passage or the question)."""
    return text.translate(_DATA_ESCAPES)


def number_passages(passages: list[Passage]) -> str:
    """The passages block of the grounded prompt: [1] 《title》 section, then the text."""
    blocks = [
        render(
            "grounded_passage",
            n=i,
            title=as_data(p.title),
            section=(" " + as_data(p.section)) if p.section else "",
            text=as_data(p.text.strip()),
        )
        for i, p in enumerate(passages, start=1)
    ]
    return "\n\n".join(blocks)


@dataclass
class Validated:
    """A model answer after citation checking."""

    text: str  # the answer with only valid markers, renumbered 1..m in order of first use
    cited: list[int] = field(default_factory=list)  # 0-based indexes into the given passages, in marker order
    removed: list[int] = field(default_factory=list)  # marker numbers that named no given passage


def validate(text: str, n_passages: int) -> Validated:
    """Keep only markers that name one of the n given passages; drop the others; renumber in order of first use."""
    order: dict[int, int] = {}
    removed: list[int] = []

    def replace(match: re.Match[str]) -> str:
        kept = []
        for raw in re.split(r"[,，、]", match.group(1)):
            n = int(raw.strip())
            if 1 <= n <= n_passages:
                order.setdefault(n, len(order) + 1)
                if order[n] not in kept:
                    kept.append(order[n])
            else:
                removed.append(n)
        return "".join(f"[{k}]" for k in kept)

    cleaned = MARKER_RE.sub(replace, text)
    cleaned = re.sub(r"(\[\d+\])(?:\1)+", r"\1", cleaned)  # [1][1] -> [1]
    cleaned = re.sub(r"[ \t]+([。，！？；：])", r"\1", cleaned).strip()
    return Validated(text=cleaned, cited=[n - 1 for n in order], removed=removed)


def best_quote(passage_text: str, answer_text: str) -> str:
    """The passage sentence that shares most characters with the answer (what the answer quotes)."""
    answer_chars = set(MARKER_RE.sub("", answer_text))
    best, best_score = "", 0.0
    for sentence in _SENTENCE_RE.findall(passage_text):
        s = sentence.strip()
        if not s:
            continue
        score = sum(ch in answer_chars for ch in s) / (len(s) ** 0.5)
        if score > best_score:
            best, best_score = s, score
    return best


def citations_for(passages: list[Passage], validated: Validated) -> list[Citation]:
    """Citation objects for the cited passages, in the order of the renumbered markers."""
    result = []
    for idx in validated.cited:
        p = passages[idx]
        result.append(
            Citation(
                chunk_id=p.chunk_id,
                doc=p.doc,
                title=p.title,
                section=p.section,
                text=p.text,
                quote=best_quote(p.text, validated.text),
            )
        )
    return result
