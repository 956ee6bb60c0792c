"""Value objects of the knowledge pipeline: loaded documents and their chunks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Document:
    """A loaded and cleaned document, ready for chunking."""

    doc_id: str  # stable id derived from the source path
    source: str  # path as given to ingest
    title: str
    text: str  # cleaned text; paragraphs separated by "\n"
    content_hash: str = ""
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A citable piece of a document."""

    chunk_id: str  # stable: doc_id + ordinal + hash of text
    doc_id: str
    title: str
    section: str  # section path joined with " > "
    text: str  # original text of the chunk
    ordinal: int  # position in the document
    ocr: bool = False  # the document was read by OCR: its words may differ from the original
    norm: str = field(default="", compare=False, repr=False)  # normalize(text), computed once when indexed

    def normalized(self) -> str:
        """normalize(text): the form stored at ingest, or computed now for a chunk from an older index."""
        if self.norm:
            return self.norm
        from bot.textnorm import normalize

        return normalize(self.text)

    def index_text(self) -> str:
        """Text the indexes see: title and section give context to short chunks."""
        return f"{self.title}\n{self.section}\n{self.text}"


@dataclass
class Extracted:
    """What a format reader gets out of one file: the document's text, its title and facts about the reading."""

    text: str  # paragraphs separated by "\n"; quotes are taken from this text verbatim
    title: str
    meta: dict = field(default_factory=dict)  # e.g. {"ocr_pages": [1, 2]} for pages read by OCR


class LoadError(Exception):
    """A file that cannot be ingested; the message is shown to the user (in Chinese)."""
