"""Sentence-transformers embeddings behind the one Embeddings interface, loaded lazily once per model."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.knowledge.embedding_interface import Embeddings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from bot.settings import Settings

_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _load_model(model_path: str, max_tokens: int | None) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path, device="cpu")
    if max_tokens and (model.max_seq_length or 0) > max_tokens:
        model.max_seq_length = max_tokens
    return model


def load_model(model_path: str, max_tokens: int | None = None) -> SentenceTransformer:
    """The sentence-transformers model for this path (and input truncation), loaded once per process."""
    with _LOCK:
        return _load_model(model_path, max_tokens)


def model_identity(model_path: str) -> str:
    """A stable identity of an embedding model: the resolved path of a local model, else its name."""
    path = Path(model_path).expanduser()
    return path.resolve().as_posix() if path.exists() else model_path


class SentenceTransformerEmbeddings(Embeddings):
    """Normalised sentence-transformers vectors on the CPU; the model loads on first use."""

    def __init__(self, model_path: str, batch_size: int = 64, max_tokens: int | None = None) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self.max_tokens = max_tokens  # truncate inputs (chunks are short; long inputs cost time, not quality)
        # Truncation changes the vectors, so it is part of the identity (and of the collection name).
        self.identity = model_identity(model_path) + (f"|max_tokens={max_tokens}" if max_tokens else "")

    @classmethod
    def from_settings(cls, settings: Settings) -> SentenceTransformerEmbeddings:
        """Embeddings configured by settings (the bundled model by default, offline)."""
        return cls(
            settings.embedding_model_path(), settings.embedding_batch_size, settings.embedding_max_tokens
        )

    @property
    def model(self) -> SentenceTransformer:
        """The underlying model (loads it on first access)."""
        if Path(self.model_path).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return load_model(self.model_path, self.max_tokens)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages."""
        return self._encode(list(texts))

    def embed_query(self, text: str) -> list[float]:
        """Embed one query."""
        return self._encode([text])[0]
