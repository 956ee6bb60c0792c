"""LiveKnowledge: the running server's knowledge base, reopened in place after an upload or a removal.

Answerers and pages keep one LiveKnowledge and reach the current KnowledgeBase through it. `reload()` opens the index
again from disk (off to the side, while questions are still answered from the old one) and then swaps one reference,
so every call made after the swap sees the whole new index and a call already running finishes on the old one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from bot.knowledge.base import KnowledgeBase


class LiveKnowledge:
    """A KnowledgeBase that can be reopened without restarting the process; attribute access goes to the current one.

    `opener(embeddings)` opens the index (embeddings: the model already loaded, or None the first time).
    """

    def __init__(self, opener: Callable[[object | None], KnowledgeBase]) -> None:
        self._opener = opener
        self._lock = threading.Lock()  # one reopening at a time
        self._current = opener(None)
        self.generation = 1  # counts the indexes opened (1 = the one opened at start)

    @property
    def current(self) -> KnowledgeBase:
        """The knowledge base in use now."""
        return self._current

    def reload(self) -> KnowledgeBase:
        """Open the index from disk again and swap it in atomically; returns the new knowledge base.

        The embedding model already loaded is reused (nothing is re-embedded or reloaded)."""
        with self._lock:
            embeddings = self._current.__dict__.get("embeddings")
            fresh = self._opener(embeddings)
            dense = getattr(self._current.__dict__.get("retriever"), "dense", None)
            if getattr(dense, "serving", False):  # a server's vectors stay in memory, read before the swap
                fresh.warm_up_dense()
            self._current = (
                fresh  # one reference assignment: readers see the old or the new index, never a mix
            )
            self.generation += 1
            return fresh

    def __getattr__(self, name: str):
        if name.startswith("__") or name in {"_current", "_opener", "_lock"}:
            raise AttributeError(name)
        return getattr(self._current, name)

    def __len__(self) -> int:
        return len(self._current)
