"""Lexical features of short Chinese answers: TF-IDF over subject words and their characters, L2-normalised rows.

An answer's subject lives in its content words (停车位, 人才公寓, 充电桩); the proposal verbs and policy words that
every subject shares (设立、建设、利用、推动 … in data/label_stopwords.txt) are left out, so they neither pull answers of
different subjects together nor name a theme. Each kept word also contributes its single characters, so that 停车楼 /
停车位 / 车库 / 泊车 or 公厕 / 厕所 still overlap when jieba cuts them differently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse

from bot.knowledge.analysis import words
from bot.textnorm import normalize

DATA_DIR = Path(__file__).resolve().parent / "data"
CHAR_PREFIX = "¤"  # keeps single-character features apart from one-character words
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class TermMatrix:
    """Rows are texts, columns terms; `is_word` marks jieba words (label candidates) against single characters."""

    matrix: sparse.csr_matrix
    terms: tuple[str, ...]
    is_word: np.ndarray


_NOT_TOPIC = re.compile(r"(https?://|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.]+|\d[\d\- ]{6,}\d")


@lru_cache(maxsize=1)
def label_stopwords() -> frozenset[str]:
    """Words that every subject shares, normalised: proposal verbs (设立, 利用 …), policy words (建议, 补贴 …), fillers."""
    return frozenset(
        normalize(w) for w in (DATA_DIR / "label_stopwords.txt").read_text(encoding="utf-8").split()
    )


def subject_words(text: str) -> list[str]:
    """Content words of one answer in order: jieba's precise cut of the normalised text (Simplified, lower case;
    bot.knowledge.analysis.words, which drops function words), keeping words of two or more characters with a Han
    character, without the shared proposal/policy words, links, e-mail addresses and phone numbers."""
    stop = label_stopwords()
    cut = words(_NOT_TOPIC.sub(" ", text), search_mode=False)
    return [w for w in cut if len(w) >= 2 and _HAN.search(w) and w not in stop]


def text_terms(text: str) -> list[str]:
    """The terms of one text: its subject words plus each of their characters (prefixed with CHAR_PREFIX)."""
    found = subject_words(text)
    return found + [CHAR_PREFIX + c for w in found for c in w if _HAN.match(c)]


def tfidf(texts: Sequence[str], min_df: int = 2) -> TermMatrix:
    """Sublinear TF-IDF with smoothed IDF; terms in fewer than min_df texts are dropped (noise, memory)."""
    min_df = min_df if len(texts) >= 20 else 1
    seen: dict[str, list[str]] = {}  # campaigns get the same answer many times (「同意」, copied texts)
    docs = [seen[t] if t in seen else seen.setdefault(t, text_terms(t)) for t in texts]
    df: dict[str, int] = {}
    for terms in docs:
        for term in set(terms):
            df[term] = df.get(term, 0) + 1
    vocab = sorted(t for t, count in df.items() if count >= min_df)
    column = {t: i for i, t in enumerate(vocab)}
    rows, cols, vals = [], [], []
    for row, terms in enumerate(docs):
        counts: dict[int, int] = {}
        for term in terms:
            index = column.get(term)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        for index, count in sorted(counts.items()):
            rows.append(row)
            cols.append(index)
            vals.append(1.0 + np.log(count))
    n = len(texts)
    idf = np.log((1 + n) / (1 + np.array([df[t] for t in vocab], dtype=np.float64))) + 1.0
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n, len(vocab)), dtype=np.float64)
    matrix = matrix @ sparse.diags(idf) if len(vocab) else matrix
    is_word = np.array([not t.startswith(CHAR_PREFIX) for t in vocab], dtype=bool)
    return TermMatrix(matrix=normalize_rows(sparse.csr_matrix(matrix)), terms=tuple(vocab), is_word=is_word)


def normalize_rows(matrix):
    """Scale each row to unit L2 norm (zero rows stay zero); works for dense and sparse matrices."""
    if sparse.issparse(matrix):
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def reduce(matrix: sparse.csr_matrix, dims: int, seed: int) -> np.ndarray:
    """Latent semantic projection by randomized SVD (seeded, so repeatable), rows re-normalised."""
    n, v = matrix.shape
    dims = min(dims, n - 1, v - 1)
    if dims < 2:
        return normalize_rows(matrix.toarray())
    rng = np.random.default_rng(seed)
    omega = rng.standard_normal((v, min(dims + 10, v)))
    basis, _ = np.linalg.qr(matrix @ omega)
    for _ in range(3):  # power iterations sharpen the spectrum of sparse text matrices
        basis, _ = np.linalg.qr(matrix.T @ basis)
        basis, _ = np.linalg.qr(matrix @ basis)
    small = (matrix.T @ basis).T
    u, s, _ = np.linalg.svd(small, full_matrices=False)
    return normalize_rows((basis @ u[:, :dims]) * s[:dims])
