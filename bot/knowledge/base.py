"""KnowledgeBase: the persisted indexes of one index directory, opened for search."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from langchain_core.embeddings import Embeddings

from bot.answering.types import Passage
from bot.knowledge.analysis import warm_up
from bot.knowledge.lexical import LexicalIndex
from bot.knowledge.retrieval import HybridRetriever, RetrievalResult, RetrievalWeights
from bot.knowledge.types import Chunk
from bot.settings import Settings


@dataclass
class KnowledgeBase:
    """Search over the lexical index and (when weighted) the dense index; opening it embeds nothing."""

    settings: Settings
    index_dir: Path
    lexical: LexicalIndex

    @classmethod
    def open(cls, settings: Settings, index_dir: Path | None = None) -> KnowledgeBase:
        """Open the knowledge base stored in index_dir (default: settings.resolved_index_dir)."""
        directory = Path(index_dir or settings.resolved_index_dir)
        kb = cls(settings, directory, LexicalIndex.open(directory / "lexical"))
        warm_up()
        _ = kb.retriever  # chooses the embedding model now: a fallback is logged at start, not at question 1
        return kb

    @cached_property
    def embeddings(self) -> Embeddings:
        """The embedding model in use (the configured one or its fallback); its weights load on first use."""
        from bot.knowledge.embedding_models import embeddings_for

        return embeddings_for(self.settings)

    @cached_property
    def weights(self) -> RetrievalWeights:
        """Retrieval weights from settings; without LVZHI_DENSE_WEIGHT, the weight measured for the model in use."""
        s = self.settings
        dense = s.dense_weight
        if dense is None:
            dense = getattr(self.embeddings, "default_dense_weight", 0.0) if s.dense_index else 0.0
        return RetrievalWeights(
            bigram=s.bigram_weight,
            synonym=s.synonym_weight,
            dense=dense,
            fusion=s.fusion,
            answer_type=s.answer_type_weight,
        )

    @cached_property
    def retriever(self) -> HybridRetriever:
        """The hybrid retriever (the dense part loads the embedding model only when its weight is above 0, and
        searches only once every document's vectors are complete)."""
        dense = None
        if self.weights.dense > 0:
            from bot.knowledge.background_vectors import VectorsWhenComplete

            dense = VectorsWhenComplete(self.index_dir, self.embeddings)
        return HybridRetriever(self.lexical, dense, self.weights)

    def retrieve(self, question: str, k: int | None = None) -> RetrievalResult:
        """Ranked passages with the evidence score used to decide whether to answer."""
        return self.retriever.search(question, k or self.settings.top_k)

    def search(self, question: str, k: int = 10) -> list[Passage]:
        """The k best passages for a question."""
        return self.retrieve(question, k).passages

    def chunk(self, chunk_id: str) -> Chunk | None:
        """A stored chunk by id."""
        return self.lexical.get(chunk_id)

    def neighbours(self, chunk_id: str, before: int = 1, after: int = 1) -> list[Chunk]:
        """The chunk with its neighbours in document order (for showing a whole section)."""
        chunk = self.lexical.get(chunk_id)
        if chunk is None:
            return []
        same = sorted(
            (c for c in self.lexical.chunks.values() if c.doc_id == chunk.doc_id), key=lambda c: c.ordinal
        )
        pos = next(i for i, c in enumerate(same) if c.chunk_id == chunk_id)
        return same[max(pos - before, 0) : pos + after + 1]

    def __len__(self) -> int:
        return len(self.lexical)
