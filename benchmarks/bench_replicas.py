"""Web chat questions through nginx: requests/s and p50/p95 latency for 1 vs 2 `lvzhi serve` replicas.

    python benchmarks/bench_replicas.py [--seconds 20] [--concurrency 16] [--pg-url URL]

Builds a lexical index of the sample documents (knowledge/), starts a throwaway PostgreSQL (or uses --pg-url), then
for 1 and 2 replicas: the replicas (`lvzhi serve --role web`), Debian nginx in front (deploy/nginx.conf), and a
load driver on loopback (aiohttp, `--concurrency` members each with its own web-chat cookie asking the questions
of the shared dev set in turn) for `--seconds`. Prints one line per setting and the CPU time each process used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from replica_harness import Nginx, Replica, replica_env  # noqa: E402


def _questions() -> list[str]:
    shared = Path(os.environ.get("LVZHI_SHARED_DIR", REPO.parent / "shared"))
    path = shared / "eval" / "dev_qa.jsonl"
    if path.exists():
        return [
            json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    return ["提案的截止时间是什么时候？", "社情民意信息怎么报送？", "委员怎么参加学习培训？"]


async def _drive(base: str, seconds: float, concurrency: int, questions: list[str]) -> dict:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def member(n: int) -> None:
        nonlocal errors
        async with aiohttp.ClientSession() as session:
            i = n
            while time.monotonic() < deadline:
                q = questions[i % len(questions)]
                i += concurrency
                started = time.perf_counter()
                async with session.post(f"{base}/api/message", json={"text": q}) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                        continue
                latencies.append(time.perf_counter() - started)

    began = time.monotonic()
    await asyncio.gather(*(member(n) for n in range(concurrency)))
    elapsed = time.monotonic() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0,
    }


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--pg-url", default=os.environ.get("LVZHI_TEST_POSTGRES_URL"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lvzhi-bench-replicas-"))
    stop_pg = None
    url = args.pg_url
    if not url:
        from storage_fixtures import _start_local_postgres

        url, stop_pg = _start_local_postgres()
    index = work / "index"
    env = {**os.environ, "LVZHI_INDEX_DIR": str(index), "LVZHI_DATA_DIR": str(work / "ingest"),
           "LVZHI_DENSE_INDEX": "false", "PYTHONPATH": str(REPO)}  # fmt: skip
    subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(REPO / "knowledge")], env=env, check=True,
                   capture_output=True)  # fmt: skip
    questions = _questions()
    print(f"{len(questions)} questions, {args.concurrency} members, {args.seconds:.0f} s per setting, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    try:
        for n in (1, 2):
            db_name = f"bench{n}_{int(time.time())}"
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{db_name}"'))
            admin.dispose()
            db_url = make_url(url).set(database=db_name).render_as_string(hide_password=False)
            extra = {"LVZHI_FLOOD_MAX_PER_ADDRESS": 10**9, "LVZHI_FLOOD_MAX_EVENTS": 10**9}
            replicas = [
                Replica(
                    f"b{n}{i}", work, replica_env(db_url, None, f"b{n}{i}", index, work, **extra), role="web"
                )
                for i in range(n)
            ]
            for r in replicas:
                r.start()
            for r in replicas:
                r.wait_ready()
            nginx = Nginx([r.url.removeprefix("http://") for r in replicas], work, workers=2).start()
            try:
                asyncio.run(_drive(nginx.url, 3.0, args.concurrency, questions))  # warm-up
                cpu0 = {r.name: _cpu_s(r.proc.pid) for r in replicas}
                figures = asyncio.run(_drive(nginx.url, args.seconds, args.concurrency, questions))
                cpu = {r.name: round(_cpu_s(r.proc.pid) - cpu0[r.name], 1) for r in replicas}
            finally:
                nginx.stop()
                for r in replicas:
                    r.stop()
            print(f"{n} replica(s): {figures['rps']:.1f} questions/s, p50 {figures['p50_ms']:.0f} ms, "
                  f"p95 {figures['p95_ms']:.0f} ms, {figures['requests']} answered, {figures['errors']} errors; "
                  f"replica CPU s {cpu}")  # fmt: skip
    finally:
        if stop_pg:
            stop_pg()


if __name__ == "__main__":
    main()
