"""Value objects shared by retrieval, answering and every channel."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of a document."""

    chunk_id: str
    doc: str  # document id (stable, derived from the source path)
    title: str  # document title
    section: str  # section path, e.g. "二、… > （三）…" or "第二章 … > 第五条"
    text: str  # the chunk text as written in the document
    score: float = 0.0

    def to_json(self) -> dict:
        """The JSON shape used by `lvzhi ask --json`."""
        return {
            "doc": self.doc,
            "title": self.title,
            "section": self.section,
            "text": self.text,
            "score": self.score,
        }


@dataclass(frozen=True)
class Citation:
    """A passage an answer quotes, with the exact quoted sentences."""

    chunk_id: str
    doc: str
    title: str
    section: str
    text: str  # the full passage text
    quote: str = ""  # the sentences of the passage that the answer quotes
    ocr: bool = False  # the passage comes from a scan read by OCR (its words may differ from the original)

    def label(self) -> str:
        """Human-readable reference: 《title》 section."""
        return f"《{self.title}》{(' ' + self.section) if self.section else ''}"

    def to_json(self) -> dict:
        """The JSON shape used by `lvzhi ask --json`."""
        return {
            "doc": self.doc,
            "title": self.title,
            "section": self.section,
            "text": self.text,
            "ocr": self.ocr,
        }


@dataclass
class Answer:
    """What the assistant says to a question."""

    question: str
    text: str
    declined: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    ms: float = 0.0
    traditional: bool = False  # the question (and so the answer) is in Traditional characters
    meta: dict = field(default_factory=dict)  # e.g. {"mode": "extractive"|"llm", "tokens": ...}

    @property
    def decision(self) -> str:
        """ "official" (the office's answer), "decline", "answer" (quoted from the documents) or "chat" (no question:
        a greeting, thanks, an emoji or markup, an empty text; bot.answering.intake)."""
        return self.meta.get("decision") or ("decline" if self.declined else "answer")

    def to_json(self) -> dict:
        """One JSON object for `lvzhi ask --json`."""
        return {
            "q": self.question,
            "answer": self.text,
            "declined": self.declined,
            "decision": self.decision,
            "citations": [c.to_json() for c in self.citations],
            "passages": [p.to_json() for p in self.passages],
            "ms": round(self.ms, 2),
            "mode": self.meta.get("mode", ""),
            "confidence": self.meta.get("confidence"),
            "why": self.meta.get("why", ""),
            "signals": self.meta.get("signals", {}),
        }


def as_dict(obj: object) -> dict:
    """Dataclass to dict (for logging and storage)."""
    return asdict(obj)  # type: ignore[arg-type]
