"""Token and time usage: the JSONL log summed per day, and `lvzhi llm usage`."""

from __future__ import annotations

import json

from bot.answering.usage import UsageLog
from bot.cli import main


def test_usage_is_summed_per_day_and_printed(tmp_path, monkeypatch, capsys):
    log = UsageLog(tmp_path)
    log.record(mode="llm", reason="ok", prompt_tokens=300, completion_tokens=40, ms=1500)
    log.record(mode="extractive", reason="timeout", prompt_tokens=0, completion_tokens=0, ms=2000)
    lines = (tmp_path / "llm_usage.jsonl").read_text(encoding="utf-8").splitlines()
    day = json.loads(lines[0])["day"]
    with (tmp_path / "llm_usage.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(
            json.dumps(
                {"day": "2026-01-02", "mode": "llm", "prompt_tokens": 10, "completion_tokens": 5, "ms": 500}
            )
            + "\n"
        )
        fh.write("not json\n")
    sums = {d.day: d for d in log.daily()}
    today = sums[day]
    assert (today.answers, today.llm, today.fallback) == (2, 1, 1)
    assert (today.prompt_tokens, today.completion_tokens, today.seconds) == (300, 40, 3.5)
    assert sums["2026-01-02"].answers == 1 and list(sums)[0] == "2026-01-02"

    monkeypatch.setenv("LVZHI_DATA_DIR", str(tmp_path))
    assert main(["llm", "usage"]) == 0
    out = capsys.readouterr().out
    row = [line for line in out.splitlines() if line.startswith(day)][0].split()
    assert row[1:6] == ["2", "1", "1", "300", "40"] and row[6] == "3.5"
