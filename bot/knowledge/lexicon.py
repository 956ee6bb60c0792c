"""Members' words → the regulations' words: the colloquial lexicon (data/colloquial.txt) applied to questions.

A member writes 「不想干了」 where the text says 辞去, 「给个说法」 for 答复, 「交材料」 for 报送. Before its terms are
built, a question has each colloquial phrase it contains replaced by the formal words the lexicon gives (longest phrase
first, one pass, so a replacement is never replaced again). Normalised text in, normalised text out.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from bot.textnorm import normalize

LEXICON_FILE = Path(__file__).resolve().parent / "data" / "colloquial.txt"


@lru_cache(maxsize=1)
def lexicon() -> dict[str, str]:
    """{colloquial phrase: formal words separated by spaces}, both normalised (Simplified, half-width)."""
    table: dict[str, str] = {}
    for line in LEXICON_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        phrase, formal = line.split("\t", 1)
        table[normalize(phrase.strip())] = normalize(" ".join(formal.split()))
    return table


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    phrases = sorted(lexicon(), key=len, reverse=True)
    return re.compile("|".join(re.escape(p) for p in phrases))


def formalize(question: str) -> str:
    """The question in the documents' words: normalised, each colloquial phrase replaced by its formal words."""
    table = lexicon()
    return _pattern().sub(lambda m: f" {table[m.group(0)]} ", normalize(question))
