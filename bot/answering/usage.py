"""Token counts and time per answer: one JSON line per answer in data_dir, summed per day."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

USAGE_FILE = "llm_usage.jsonl"
_LOCK = threading.Lock()


@dataclass
class DaySum:
    """Sums of one day."""

    day: str
    answers: int = 0
    llm: int = 0
    fallback: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def mean_seconds(self) -> float:
        """Mean time per answer."""
        return self.seconds / self.answers if self.answers else 0.0


class UsageLog:
    """Append-only JSONL log of LLM usage at <data_dir>/llm_usage.jsonl."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / USAGE_FILE

    def record(
        self, *, mode: str, reason: str, prompt_tokens: int, completion_tokens: int, ms: float
    ) -> dict:
        """Append one answer's usage and return the record."""
        now = datetime.now().astimezone()
        entry = {
            "ts": now.isoformat(timespec="seconds"),
            "day": now.date().isoformat(),
            "mode": mode,
            "reason": reason,
            "prompt_tokens": int(prompt_tokens),
            "completion_tokens": int(completion_tokens),
            "ms": round(ms, 1),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK, self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return entry

    def entries(self) -> list[dict]:
        """Every record (unreadable lines are skipped)."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def daily(self) -> list[DaySum]:
        """Sums per day, oldest first."""
        days: dict[str, DaySum] = {}
        for e in self.entries():
            d = days.setdefault(e.get("day", "?"), DaySum(day=e.get("day", "?")))
            d.answers += 1
            d.llm += e.get("mode") == "llm"
            d.fallback += e.get("mode") != "llm"
            d.prompt_tokens += int(e.get("prompt_tokens") or 0)
            d.completion_tokens += int(e.get("completion_tokens") or 0)
            d.seconds += float(e.get("ms") or 0) / 1000
        return [days[k] for k in sorted(days)]
