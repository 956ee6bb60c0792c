"""Benchmark: simulated members through the Bot API stand-in (questions and full submissions), real everything else."""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

QUESTIONS = ["提案可以反映几个问题？", "提案审查要多久？", "社情民意信息篇幅多长？", "怎样联名提出提案？",
             "今天足球比赛谁赢了", "被采用的社情民意信息怎么处理？"]  # fmt: skip


async def member_script(m, rng: random.Random, times: list[float], done: list[str]) -> None:
    """One member: two questions, then maybe a micro-suggestion or a campaign answer."""

    async def timed(coro):
        t0 = time.perf_counter()
        calls = await coro
        times.append(time.perf_counter() - t0)
        return calls

    await timed(m.command("start"))
    for q in rng.sample(QUESTIONS, 2):
        await timed(m.text(q))
    kind = rng.choice(["micro", "micro", "campaign", None])
    if kind is None:
        return
    await timed(m.command("suggest"))
    await timed(m.press(f"f:t:{kind}"))
    await timed(m.press("f:c:0"))
    if kind == "micro":
        await timed(m.press("f:k"))
        await timed(m.text("建议在地铁站增加无障碍电梯，方便老人出行。"))
    else:
        await timed(m.text("建议打造山地运动品牌赛事，带动文旅消费。"))
        await timed(m.press("f:k"))
    await timed(m.press("f:d"))
    calls = await timed(m.press("f:s"))
    if any("提交成功" in c.params.get("text", "") for c in calls):
        done.append(kind)


async def main(members: int, rate_limit: bool, database_url: str | None) -> None:
    from sqlalchemy import func, select
    from tg_harness import Harness, SimMember

    from bot.knowledge.ingest import ingest_paths
    from bot.services import build_services
    from bot.settings import Settings
    from bot.storage.models import Submission

    tmp = Path(tempfile.mkdtemp(prefix="lvzhi-bench-"))
    settings = Settings(_env_file=None, data_dir=tmp / "data", index_dir=tmp / "index", telegram_token="1:BENCH",
                        telegram_rate_limit=rate_limit, flood_max_events=10_000, database_url=database_url)  # fmt: skip
    ingest_paths([ROOT / "knowledge"], settings, progress=False)
    services = build_services(settings)
    services.answerer.answer("预热")
    h = Harness(services)
    await h.start()
    rng = random.Random(7)
    times: list[float] = []
    done: list[str] = []
    t0 = time.perf_counter()
    sims = [SimMember(h, 10_000 + i, f"委员{i}") for i in range(members)]
    await asyncio.gather(*(member_script(m, random.Random(rng.random()), times, done) for m in sims))
    wall = time.perf_counter() - t0
    await h.stop()
    with services.db.session() as s:
        in_db = s.scalar(select(func.count()).select_from(Submission))
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"members={members} rate_limiter={'on' if rate_limit else 'off'} db={services.db.dialect}")
    print(f"updates={len(times)} wall={wall:.1f}s updates/s={len(times) / wall:.1f}")
    print(f"reply time p50={statistics.median(times) * 1000:.0f} ms p95={p95 * 1000:.0f} ms")
    print(f"peak memory (ru_maxrss)={peak_mb:.0f} MB")
    print(f"api calls={len(h.api.calls)} submissions completed={len(done)} in database={in_db}")
    assert in_db == len(done), "submission count mismatch"
    assert not h.api.problems, h.api.problems[:3]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--members", type=int, default=200)
    ap.add_argument(
        "--rate-limit", action="store_true", help="use AIORateLimiter (Telegram's ~30 msg/s overall)"
    )
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = ap.parse_args()
    asyncio.run(main(args.members, args.rate_limit, args.database_url))
