"""Text analysis for the lexical index: normalisation, jieba words with a domain dictionary, Han bigrams."""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path

import jieba

from bot.knowledge import jieba_cache
from bot.textnorm import normalize

DATA_DIR = Path(__file__).resolve().parent / "data"
BIGRAM_PREFIX = "§"  # keeps character bigrams apart from words of the same two characters
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff]")
_lock = threading.Lock()
SENTENCE_CACHE = 4096  # texts whose term sets are kept (a sentence's set: ~30 terms, a few KB)


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    """A jieba tokenizer with the domain dictionary loaded (initialised once, quietly; the main dictionary from
    jieba_cache, which is several times faster to read than jieba's own cache)."""
    with _lock:
        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        jieba_cache.initialize(tok)
        tok.load_userdict(str(DATA_DIR / "userdict.txt"))
        return tok


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Function words and question words that carry no topic."""
    return frozenset((DATA_DIR / "stopwords.txt").read_text(encoding="utf-8").split())


def words(text: str, search_mode: bool = True) -> list[str]:
    """jieba words of normalised text, without stopwords and punctuation.

    Documents are cut in search mode (a long word also yields its parts, so a part in a question finds it);
    questions in precise mode, so that one concept in a question is not counted once per sub-word.
    """
    norm = normalize(text).lower()
    stop = stopwords()
    tok = _tokenizer()
    cut = tok.lcut_for_search(norm) if search_mode else tok.lcut(norm)
    return [w for w in cut if w.strip() and _TOKEN_OK.search(w) and w not in stop]


def bigrams(text: str) -> list[str]:
    """Character bigrams inside runs of Han characters (robust to segmentation differences)."""
    out: list[str] = []
    for run in _HAN_RUN.findall(normalize(text)):
        out.extend(BIGRAM_PREFIX + run[i : i + 2] for i in range(len(run) - 1))
    return out


def analyze(text: str) -> list[str]:
    """Index terms of a text: words plus Han bigrams."""
    return words(text) + bigrams(text)


@lru_cache(maxsize=SENTENCE_CACHE)
def term_set(text: str) -> frozenset[str]:
    """The distinct index terms of a text (`analyze`), remembered for the SENTENCE_CACHE texts used last: the
    sentences of the best passages are scored again whenever a question finds them."""
    return frozenset(analyze(text))


def analyze_chunk(title: str, section: str, text: str) -> list[str]:
    """Index terms of a chunk: its text with the document title and section path (context for short chunks)."""
    return analyze(f"{title}\n{section}\n{text}")


@lru_cache(maxsize=1)
def synonyms() -> dict[str, list[str]]:
    """Query expansion groups from data/synonyms.txt: the first word of a line expands to the rest."""
    table: dict[str, list[str]] = {}
    for line in (DATA_DIR / "synonyms.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts and not parts[0].startswith("#"):
            table.setdefault(normalize(parts[0]), []).extend(normalize(p) for p in parts[1:])
    return table


def question_terms(question: str, bigram_weight: float = 0.5) -> dict[str, float]:
    """Weighted terms of a question itself: its words (precise cut) and its Han bigrams."""
    weights: dict[str, float] = {}
    for w in words(question, search_mode=False):
        weights[w] = weights.get(w, 0.0) + 1.0
    for b in bigrams(question):
        weights[b] = weights.get(b, 0.0) + bigram_weight
    return weights


def synonym_terms(own: dict[str, float], synonym_weight: float = 0.4) -> dict[str, float]:
    """Synonyms of a question's words (from question_terms) that the question does not already contain."""
    table = synonyms()
    expansions: dict[str, float] = {}
    for word in (t for t in own if not t.startswith(BIGRAM_PREFIX)):
        for syn in table.get(word, []):
            if syn not in own:
                expansions.setdefault(syn, synonym_weight)
    return expansions


def query_terms(question: str, bigram_weight: float = 0.5, synonym_weight: float = 0.4) -> dict[str, float]:
    """Weighted terms of a question: its words, its Han bigrams and synonyms of its words."""
    own = question_terms(question, bigram_weight)
    return own | synonym_terms(own, synonym_weight)


def warm_up() -> None:
    """Load the tokenizer now rather than on the first query."""
    _tokenizer()
