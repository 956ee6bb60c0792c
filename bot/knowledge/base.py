"""KnowledgeBase: the persisted indexes of one index directory, opened for search."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from bot.answering.types import Passage
from bot.knowledge.analysis import BIGRAM_PREFIX, question_terms, warm_up
from bot.knowledge.articles import ArticleIndex, find_article_ref, normalized_title, title_match
from bot.knowledge.embedding_interface import Embeddings
from bot.knowledge.lexical import LexicalIndex, current_version
from bot.knowledge.lexicon import formalize
from bot.knowledge.retrieval import HybridRetriever, RetrievalResult, RetrievalWeights
from bot.knowledge.scope import question_scope, scope_factors
from bot.knowledge.types import Chunk
from bot.settings import Settings

log = logging.getLogger(__name__)
RELOAD_CHECK_S = 1.0  # how often a question checks whether another process saved a new index version
SCOPE_POOL = 30  # passages re-ranked by scope (the retriever's candidates)
TITLE_MATCH = 0.6  # share of a named title's character bigrams a document title must have to be the one named


def _passage(chunk: Chunk, score: float) -> Passage:
    return Passage(chunk.chunk_id, chunk.doc_id, chunk.title, chunk.section, chunk.text, score)


@dataclass
class KnowledgeBase:
    """Search over the lexical index and (when weighted) the dense index; opening it embeds nothing."""

    settings: Settings
    index_dir: Path
    lexical: LexicalIndex
    _next_check: float = field(default=0.0, repr=False)
    _reload_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(
        cls, settings: Settings, index_dir: Path | None = None, embeddings: Embeddings | None = None
    ) -> KnowledgeBase:
        """Open the knowledge base stored in index_dir (default: settings.resolved_index_dir).

        `embeddings`: an embedding model already loaded (a reopened index reuses the running one's)."""
        directory = Path(index_dir or settings.resolved_index_dir)
        kb = cls(settings, directory, LexicalIndex.open(directory / "lexical"))
        if embeddings is not None:
            kb.__dict__["embeddings"] = embeddings
        warm_up()
        _ = kb.retriever  # chooses the embedding model now: a fallback is logged at start, not at question 1
        return kb

    def reload(self) -> bool:
        """Switch to the index version saved last (by this or any other process) now; True if it changed.

        Call it after an ingest in this process (e.g. a document uploaded on the staff pages) to answer from the
        new documents at once; other replicas switch by themselves (`reload_if_changed`, once a second at most).
        The new version is loaded whole and its search structures built before one swap of the references, so a
        question is answered from the old or the new version, never from a half-written or half-loaded one.
        """
        return self.reload_if_changed(force=True)

    def reload_if_changed(self, force: bool = False) -> bool:
        """Load the current index version if it is not the one in use (checked at most every RELOAD_CHECK_S
        seconds unless `force`: one small file read); True if this knowledge base switched."""
        now = time.monotonic()
        if not force and now < self._next_check:
            return False
        self._next_check = now + RELOAD_CHECK_S
        lexical_dir = self.index_dir / "lexical"
        if current_version(lexical_dir) in (None, self.lexical.version):
            return False
        with self._reload_lock:
            fresh = LexicalIndex.open(lexical_dir)
            if fresh.version == self.lexical.version:
                return False
            old = self.retriever
            retriever = HybridRetriever(fresh, old.dense, old.weights)
            articles = ArticleIndex(fresh.chunks)
            previous = self.lexical.version
            self.__dict__.update(lexical=fresh, retriever=retriever, articles=articles)
            self.__dict__.pop("_doc_titles", None)
            self.__dict__.pop("titles", None)
        log.info("知识库已切换到新版本 %s（原 %s，%d 个段落）", fresh.version, previous or "-", len(fresh))
        return True

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

            dense = VectorsWhenComplete(
                self.index_dir, self.embeddings, exact_max=self.settings.exact_dense_max
            )
        return HybridRetriever(self.lexical, dense, self.weights)

    def warm_up_dense(self) -> None:
        """Open the dense part now rather than in the first question (see VectorsWhenComplete.warm_up); nothing when
        it is off. `lvzhi serve` calls it before it listens, so that its first member does not wait ~0.7 s."""
        warm_up = getattr(self.retriever.dense, "warm_up", None)
        if warm_up is None:
            return
        try:
            warm_up()
        except (
            Exception
        ) as exc:  # e.g. a Chroma server (LVZHI_CHROMA_URL) not up yet: start anyway, as before
            log.warning("向量索引暂时无法打开（%s: %s），先只用关键词检索，稍后再试", type(exc).__name__, exc)

    @cached_property
    def articles(self) -> ArticleIndex:
        """The articles (第X条) of every document, by number."""
        return ArticleIndex(self.lexical.chunks)

    def retrieve(self, question: str, k: int | None = None) -> RetrievalResult:
        """Ranked passages with the evidence score used to decide whether to answer.

        A question that names an article (「第5条」「《X》第一百〇二条」) gets that article: the named or best matching
        document's article first (all its chunks), then the same-numbered article of the other documents.
        """
        self.reload_if_changed()  # another replica's ingest: switch without a restart
        result = self.retriever.search(question, max(k or self.settings.top_k, SCOPE_POOL))
        result = self._scoped(question, result, k or self.settings.top_k)
        ref = find_article_ref(question)
        if ref is None:
            return result
        docs = self.articles.documents_with(ref.number)
        if ref.title_hint:
            named_title = self._named_title(ref.title_hint)
            if named_title is not None:
                docs = [d for d in docs if self._doc_titles[d] == named_title]
                if not docs:  # the named document has no such article: say so, never another law's article
                    return replace(
                        result, passages=[], evidence=0.0, article=ref.label, missing_in=named_title
                    )
        if not docs:
            return result
        docs.sort(key=self._article_order(question, ref))
        best = self.articles.chunks(docs[0], ref.number)
        others = [self.articles.chunks(d, ref.number)[0] for d in docs[1:]]
        passages = [_passage(c, 1.0) for c in best] + [_passage(c, 0.5) for c in others]
        return replace(result, passages=passages, evidence=1.0, article=ref.label)

    @cached_property
    def _doc_titles(self) -> dict[str, str]:
        return {c.doc_id: c.title for c in self.lexical.chunks.values()}

    def _named_title(self, hint: str) -> str | None:
        """The title a question's document words name (「代表法」, 《信访工作条例》), or None.

        Among titles that contain enough of the words, the one that ends with them wins (「…代表法」 over 「…代表法》办法」),
        then the closest match, then the shortest title.
        """
        norm = normalized_title(hint)
        matches = ((t, title_match(hint, t)) for t in self.titles)
        scored = [
            (normalized_title(t).rstrip("）)").endswith(norm), share, -len(t), t)
            for t, share in matches
            if share >= TITLE_MATCH
        ]
        return max(scored)[-1] if scored else None

    def _article_order(self, question: str, ref):
        """Sort key of the documents that have the asked article: by how well the rest of the question matches them.

        The rest is the question without its article reference, so 第5条, 第五条 and 第５条 order alike; with no
        content words left (「第五条是什么」) the order is the documents' ids.
        """
        rest = question.replace(ref.label, " ")
        rank: dict[str, int] = {}
        if any(not t.startswith(BIGRAM_PREFIX) for t in question_terms(formalize(rest))):
            for position, passage in enumerate(self.retriever.search(rest, SCOPE_POOL).passages):
                rank.setdefault(passage.doc, position)
        return lambda d: (rank.get(d, SCOPE_POOL), d)

    @cached_property
    def titles(self) -> list[str]:
        """The distinct document titles of the knowledge base."""
        return sorted(set(self._doc_titles.values()))

    def _scoped(self, question: str, result: RetrievalResult, k: int) -> RetrievalResult:
        """Passages re-ranked by the question's place, body and named document; the evidence follows the best one.

        When even the best passage after re-ranking is another place's or body's rule, the evidence is scaled down
        by its factor, so that such a question is declined rather than answered from the wrong rule.
        """
        scope = question_scope(question, self.titles)
        if not (scope.places or scope.bodies or scope.doc_names) or not result.passages:
            result.passages = result.passages[:k]
            return result
        factors = {p.chunk_id: scope_factors(scope, p.title, p.text) for p in result.passages}
        ranked = sorted(
            (replace(p, score=round(p.score * factors[p.chunk_id][0], 4)) for p in result.passages),
            key=lambda p: (-p.score, p.chunk_id),
        )
        penalty = factors[ranked[0].chunk_id][1]
        return replace(result, passages=ranked[:k], evidence=result.evidence * penalty, penalty=penalty)

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
