"""The staff questions log with 100,000 logged questions: page-open time (p50/p95) on SQLite and PostgreSQL.

    python benchmarks/bench_questions_log.py [--rows 100000] [--requests 40] [--pg URL] [--no-pg]

Fills a fresh database with `rows` logged questions over a year (a third citing one of 20 documents, 20 % declined,
5 % voted down, web and Telegram, 300 members and guests), serves the real web app (aiohttp, staff pages) on
loopback, logs a staff member in, and times complete GET /staff/questions requests (server and client, HTML
included) for: the newest page, each filter (declined, voted down, a document, a channel, a month's date range, the
official answers) and a page deep in the log (keyset ?before=). Without --pg a throwaway PostgreSQL is started as
the tests do (Debian's initdb). Prints p50/p95 in milliseconds per case and database; the target is p95 ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

BATCH = 5000


def fill(database, rows: int, seed: int = 7) -> None:
    """Insert `rows` logged questions (and their cited documents, members and identities) in batches."""
    from sqlalchemy import insert

    from bot.storage.models import ChatIdentity, Member, QALog, QASource

    rng = random.Random(seed)
    now = datetime.now(UTC)
    with database.session() as s:
        members = [{"name": f"委员{i}", "sector": "经济界", "phone": f"1380000{i:04d}"} for i in range(200)]
        s.execute(insert(Member), members)
        member_ids = [m for (m,) in s.execute(Member.__table__.select().with_only_columns(Member.id))]
        identities = [
            {"channel": "web" if i % 2 else "telegram", "external_id": f"user{i}", "chat_id": f"user{i}",
             "display_name": "", "member_id": member_ids[i] if i < len(member_ids) else None}
            for i in range(300)
        ]  # fmt: skip
        s.execute(insert(ChatIdentity), identities)
        ident_ids = [
            i for (i,) in s.execute(ChatIdentity.__table__.select().with_only_columns(ChatIdentity.id))
        ]
    docs = [f"docs/规定{i:02d}.docx" for i in range(20)]
    next_id = 1
    for start in range(0, rows, BATCH):
        batch, sources = [], []
        for n in range(start, min(rows, start + BATCH)):
            declined = rng.random() < 0.2
            cited = [] if declined else ([rng.choice(docs)] if rng.random() < 0.4 else [])
            at = now - timedelta(seconds=(rows - n) * 365 * 86400 / rows)
            citations = [{"chunk_id": f"{d}:3:abcd", "doc": d, "title": "规定", "section": "第二章 > 第五条",
                          "text": "第五条 ……", "label": "《规定》 第二章 > 第五条"} for d in cited]  # fmt: skip
            batch.append({
                "id": next_id, "identity_id": rng.choice(ident_ids), "channel": rng.choice(("web", "telegram")),
                "chat_id": "c", "question": f"问题{n}：提案审查要多长时间？", "answer": "根据知识库，相关原文如下……" * 3,
                "declined": declined, "chunk_ids": [c["chunk_id"] for c in citations], "citations": citations,
                "vote": -1 if rng.random() < 0.05 else (1 if rng.random() < 0.1 else None),
                "ms": rng.uniform(20, 900), "decision": "decline" if declined else "answer", "created_at": at,
            })  # fmt: skip
            sources += [{"qa_id": next_id, "doc_id": d} for d in cited]
            next_id += 1
        with database.session() as s:
            s.execute(insert(QALog), batch)
            if sources:
                s.execute(insert(QASource), sources)


def cases(rows: int) -> dict[str, dict]:
    """The requests timed: name → query string parameters."""
    today = datetime.now(UTC).date()
    return {
        "newest": {},
        "declined": {"declined": "1"},
        "voted_down": {"down": "1"},
        "document": {"doc": "docs/规定07.docx"},
        "channel": {"channel": "telegram"},
        "month": {
            "from": (today - timedelta(days=200)).isoformat(),
            "to": (today - timedelta(days=170)).isoformat(),
        },
        "official": {"decision": "official"},
        "deep_page": {"before": str(rows // 2)},
        "declined_deep": {"declined": "1", "before": str(rows // 3)},
    }


def run(url: str, rows: int, requests_per_case: int, data_dir: Path) -> dict[str, tuple[float, float]]:
    """Fill a database at `url`, serve the app, time the cases; {case: (p50 ms, p95 ms)}."""
    import requests
    from questions_fixtures import staff_login
    from web_fixtures import serve_web_app

    from bot.services import build_services
    from bot.settings import Settings
    from bot.staff import accounts
    from bot.storage import Database

    database = Database(url)
    database.migrate()
    started = time.perf_counter()
    fill(database, rows)
    print(f"  filled {rows} rows in {time.perf_counter() - started:.1f} s", flush=True)
    with database.session() as s:
        accounts.add(s, "admin", "bench", "bench password", "staff", "测试")
    settings = Settings(_env_file=None, data_dir=data_dir, index_dir=data_dir / "index", database_url=url)
    services = build_services(settings)
    services.__dict__["db"] = database
    out = {}
    with serve_web_app(services) as (site, _loop):
        web = staff_login(site, "bench", "bench password")
        for name, params in cases(rows).items():
            web.get(f"{site}/staff/questions", params=params)  # warm
            times = []
            for _ in range(requests_per_case):
                t0 = time.perf_counter()
                r = web.get(f"{site}/staff/questions", params=params)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200 and 'id="qlog"' in r.text, r.status_code
            times.sort()
            out[name] = (statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)])
        assert requests  # the client library the login helper uses
    database.dispose()
    return out


def main() -> int:
    """Run on SQLite and PostgreSQL and print p50/p95 per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument(
        "--pg", default=None, help="PostgreSQL URL (an empty database); default: a throwaway one"
    )
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite:", flush=True)
        results["SQLite"] = run(f"sqlite:///{tmp}/bench.db", args.rows, args.requests, Path(tmp) / "d1")
        if not args.no_pg:
            stop = None
            url = args.pg
            if url is None:
                from storage_fixtures import _start_local_postgres

                started = _start_local_postgres()
                if started is None:
                    print("PostgreSQL is not installed; use --pg URL or --no-pg", file=sys.stderr)
                    return 1
                url, stop = started
            try:
                print("PostgreSQL:", flush=True)
                results["PostgreSQL"] = run(url, args.rows, args.requests, Path(tmp) / "d2")
            finally:
                if stop:
                    stop()
    print(f"\n/staff/questions with {args.rows} logged questions, {args.requests} requests per case (ms)")
    print(f"{'case':14s}" + "".join(f"{db + ' p50':>16s}{db + ' p95':>16s}" for db in results))
    for name in cases(args.rows):
        print(
            f"{name:14s}"
            + "".join(f"{results[db][name][0]:16.1f}{results[db][name][1]:16.1f}" for db in results)
        )
    worst = max(p95 for r in results.values() for _, p95 in r.values())
    print(f"worst p95: {worst:.1f} ms (target ≤ 300 ms)")
    return 0 if worst <= 300 else 1


if __name__ == "__main__":
    sys.exit(main())
