"""Benchmark: one `lvzhi serve` answering web-chat questions from concurrent members on loopback.

Builds a knowledge base of the ten shared regulations in a temporary data directory (SQLite), starts `lvzhi serve`
(web chat only) as a subprocess, and for each concurrency level lets that many simulated members (one cookie jar each)
ask questions from eval/regulations_check.jsonl one after another. A first row ("new") asks each question once, so
its query vector is computed; the levels then ask them again. Prints, per row: questions answered, answered/s,
p50/p95 of the reply time (ms), the server's CPU time per answered question (ms, from /proc/<pid>/stat utime+stime)
and, with one member, the median of the server's CPU time per question (measured question by question from the
threads' schedstat, ns); at the end the server's peak RSS (VmHWM, MiB). `--profile N` instead answers the questions in-process through the web chat
(aiohttp on loopback, thread jobs run inline so one thread's CPU clock sees the work) and prints the CPU time of each
stage per question (STAGES), the SQL statements per question, then a cProfile of N questions.

    python benchmarks/bench_serve.py [--levels 1 10 50] [--questions 300] [--profile 300]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import cProfile
import functools
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
TICKS = os.sysconf("SC_CLK_TCK")


WARM_UP = ["提案的截止时间是什么时候？", "你好", "委员怎么请假？"]


def questions() -> list[str]:
    """The check-set questions (answerable and not), in file order."""
    path = ROOT / "eval" / "regulations_check.jsonl"
    return [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cpu_seconds(pid: int) -> float:
    """utime + stime of process `pid` in seconds (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def cpu_ns(pid: int) -> int:
    """CPU time of all threads of process `pid` in ns (first field of /proc/<pid>/task/*/schedstat): fine enough to
    measure one question, which /proc/<pid>/stat's 10 ms ticks are not."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):  # a thread that ended meanwhile
            total += int((task / "schedstat").read_text().split()[0])
    return total


def peak_rss_mib(pid: int) -> float:
    """VmHWM of process `pid` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_env(data_dir: Path) -> dict[str, str]:
    """Environment of the server and the ingest: a private data directory, no Telegram, flood limits out of the way."""
    env = dict(os.environ)
    env.update(
        LVZHI_DATA_DIR=str(data_dir), ANONYMIZED_TELEMETRY="False", HF_HUB_OFFLINE="1",
        LVZHI_FLOOD_MAX_EVENTS="100000", LVZHI_FLOOD_MAX_PER_ADDRESS="1000000", OMP_WAIT_POLICY="passive",
    )  # fmt: skip
    env.pop("LVZHI_TELEGRAM_TOKEN", None)
    env.pop("LVZHI_DATABASE_URL", None)
    return env


async def member(
    session, url: str, asks: list[str], times: list[float], cpu: list[float] | None = None, pid: int = 0
) -> None:
    """One member asking `asks` in turn; appends each reply time (s) to `times` and, given `cpu`, the server's CPU
    time (ms) of each question (only meaningful when this member is the server's only client)."""
    for i, q in enumerate(asks):
        t0 = time.perf_counter()
        c0 = cpu_ns(pid) if cpu is not None else 0
        async with session.post(url, json={"text": q, "id": f"b{id(asks)}-{i}"}) as resp:
            body = await resp.json()
            if resp.status != 200 or not body.get("replies"):
                raise RuntimeError(f"HTTP {resp.status}: {body}")
        times.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append((cpu_ns(pid) - c0) / 1e6)


async def level(port: int, pid: int, members: int, total: int, qs: list[str]) -> dict:
    """Run `members` concurrent members asking `total` questions in all; the figures of this level (with one member
    also the median of the server's CPU time per question, measured question by question)."""
    import aiohttp

    per = max(1, total // members)
    url = f"http://127.0.0.1:{port}/api/message"
    sessions = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in range(members)]
    try:
        for s in sessions:  # open each member's web session before measuring
            async with s.post(url, json={"text": "你好"}) as resp:
                await resp.read()
        times: list[float] = []
        each: list[float] | None = [] if members == 1 else None
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(
            *(
                member(s, url, [qs[(k * per + i) % len(qs)] for i in range(per)], times, each, pid)
                for k, s in enumerate(sessions)
            )
        )
        wall, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    finally:
        for s in sessions:
            await s.close()
    times.sort()
    return {
        "members": members, "answered": len(times), "per_s": len(times) / wall,
        "p50_ms": 1000 * statistics.median(times), "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))],
        "cpu_ms": 1000 * cpu / len(times), "cpu_median_ms": statistics.median(each) if each else None,
    }  # fmt: skip


def wait_ready(port: int, proc: subprocess.Popen, timeout_s: float = 300) -> None:
    """Until the server accepts connections (or exits, which raises)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"lvzhi serve exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError("lvzhi serve did not start")


def run_server(args: argparse.Namespace, data_dir: Path, qs: list[str]) -> None:
    """Start `lvzhi serve` and measure each concurrency level."""
    env = build_env(data_dir)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--no-telegram", "--port", str(port)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,  # a pipe nobody reads would fill and stall the server
    )  # fmt: skip
    try:
        wait_ready(port, proc)
        print(
            f"{'members':>8} {'answered':>9} {'answered/s':>11} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms/question':>16}"
            f" {'median':>7}"
        )
        # First every question once (new to this server: its query vector is computed), then the levels, where
        # members ask the questions again, as members of an office ask the same things.
        rows = [("new", asyncio.run(level(port, proc.pid, 1, len(qs), qs)))]
        rows += [(str(n), asyncio.run(level(port, proc.pid, n, args.questions, qs))) for n in args.levels]
        for label, r in rows:
            median = f"{r['cpu_median_ms']:>7.2f}" if r["cpu_median_ms"] is not None else f"{'':>7}"
            print(
                f"{label:>8} {r['answered']:>9} {r['per_s']:>11.1f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}"
                f" {r['cpu_ms']:>16.2f} {median}"
            )
        print(f"peak RSS of lvzhi serve: {peak_rss_mib(proc.pid):.0f} MiB")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            print("lvzhi serve did not stop within 60 s of SIGTERM; killed")
            proc.kill()
            proc.wait()


class _Inline(concurrent.futures.ThreadPoolExecutor):
    """An executor that runs each job at once in the calling thread (so one thread's CPU clock sees all the work)."""

    def submit(self, fn, /, *args, **kwargs):
        future: concurrent.futures.Future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine, as a thread pool would
            future.set_exception(exc)
        return future


# Stages timed in the profile: (module path, attribute path, label). Inclusive CPU time of the calling thread.
STAGES = [
    ("bot.channels.web.app", "message", "web handler (all of one request, after HTTP parsing)"),
    ("bot.channels.web.sessions", "open_session", "  web session lookup"),
    ("bot.channels.web.history", "Exchange.claim", "    web message recorded"),
    ("bot.channels.web.history", "Exchange.store", "    web replies stored"),
    ("bot.chat.assistant", "Assistant.handle", "  Assistant.handle"),
    ("bot.chat.assistant", "Assistant._answer_ahead", "    answer ahead (read transaction + answering)"),
    ("bot.chat.assistant", "recent_turns", "      chat history read"),
    ("bot.answering.official", "OfficialAnswers.match", "      official answers matched"),
    ("bot.answering.extractive", "ExtractiveAnswerer.answer", "      extractive answer"),
    ("bot.knowledge.base", "KnowledgeBase.retrieve", "        retrieve"),
    ("bot.knowledge.retrieval", "question_terms", "          question terms (jieba)"),
    ("bot.knowledge.lexical", "LexicalIndex.search_terms", "          BM25 search"),
    ("bot.knowledge.background_vectors", "VectorsWhenComplete.search", "          vector search"),
    ("bot.knowledge.retrieval", "answer_type_bonus", "          answer-type bonus"),
    ("bot.knowledge.base", "KnowledgeBase._scoped", "          scope re-ranking"),
    ("bot.answering.extractive", "ExtractiveAnswerer._decide", "        decision"),
    ("bot.answering.extractive", "ExtractiveAnswerer._quotes", "        quotes"),
    ("bot.chat.processed", "claim", "    update key claimed"),
    ("bot.chat.assistant", "identity_for", "    chat identity"),
    ("bot.suggestions.flow", "load", "    flow state (both reads)"),
    ("bot.staff.chat", "StaffDesk.on_text", "    staff prompt check"),
    ("bot.chat.assistant", "record_answer", "    chat turn stored"),
    ("bot.chat.qa", "log_answer", "    question log"),
    ("bot.chat.qa", "render_answer", "    reply rendered"),
    ("sqlalchemy.orm.session", "SessionTransaction.commit", "  SQLAlchemy commits (savepoints included)"),
]


def _timed(totals: dict[str, float], label: str, fn):
    """`fn` wrapped to add its inclusive thread CPU time (s) to totals[label]; re-entry counted once."""
    depth = [0]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if depth[0]:
            return fn(*args, **kwargs)
        depth[0] += 1
        t0 = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[label] = totals.get(label, 0.0) + time.thread_time() - t0
            depth[0] -= 1

    @functools.wraps(fn)
    async def async_wrapper(*args, **kwargs):  # one request at a time: the awaits run nothing else of ours
        t0 = time.thread_time()
        try:
            return await fn(*args, **kwargs)
        finally:
            totals[label] = totals.get(label, 0.0) + time.thread_time() - t0

    return async_wrapper if asyncio.iscoroutinefunction(fn) else wrapper


def _install_timers(totals: dict[str, float]):
    """Wrap every stage of STAGES with a timer; returns a function that puts the originals back."""
    import importlib

    originals = []
    for module_name, path, label in STAGES:
        owner = importlib.import_module(module_name)
        *outer, attr = path.split(".")
        for name in outer:
            owner = getattr(owner, name)
        originals.append((owner, attr, getattr(owner, attr)))
        setattr(owner, attr, _timed(totals, label, getattr(owner, attr)))
    return lambda: [setattr(owner, attr, fn) for owner, attr, fn in originals]


async def _web_questions(app, asks: list[str], tag: str) -> None:
    """Post `asks` to the web chat of `app` (in this loop), one member at a time."""
    from aiohttp.test_utils import TestClient, TestServer

    async with TestClient(TestServer(app)) as client:
        for i, q in enumerate(asks):
            resp = await client.post("/api/message", json={"text": q, "id": f"{tag}-{i}"})
            body = await resp.json()
            if resp.status != 200 or not body.get("replies"):
                raise RuntimeError(f"HTTP {resp.status}: {body}")


def run_profile(n: int, data_dir: Path, qs: list[str]) -> None:
    """Answer questions in-process through the web chat (aiohttp on loopback, every thread job run inline) and
    print the CPU time of each stage per question, the SQL statements per question, then a cProfile of `n`."""
    os.environ.update(build_env(data_dir))
    from sqlalchemy import event

    from bot.channels.web.app import build_web_app
    from bot.services import build_services

    services = build_services()
    totals: dict[str, float] = {}
    restore = _install_timers(totals)
    statements = [0]
    event.listen(
        services.db.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1)
    )

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(_Inline())
        services.__dict__["answer_pool"] = _Inline()  # the members' messages too (bot.channels.pool)
        app = build_web_app(services)
        tag = f"p{os.getpid()}"
        await _web_questions(app, WARM_UP, f"{tag}-w")  # load the indexes and the model before measuring
        for label in ("first time (query vectors computed)", "asked again (query vectors remembered)"):
            totals.clear()
            statements[0] = 0
            t0, w0 = time.thread_time(), time.perf_counter()
            await _web_questions(app, qs, f"{tag}-{label[:5]}")
            cpu, wall = time.thread_time() - t0, time.perf_counter() - w0
            print(
                f"in-process web chat, {len(qs)} questions {label}: CPU {1000 * cpu / len(qs):.2f} ms/question "
                f"(this thread: server and client), wall {1000 * wall / len(qs):.2f} ms, "
                f"{statements[0] / len(qs):.1f} SQL statements/question"
            )
            for _module, _path, stage in STAGES:
                print(f"  {1000 * totals.get(stage, 0.0) / len(qs):7.2f} ms  {stage}")
        restore()  # the profile below sees the code as it runs (a new app: its routes are the unwrapped handlers)
        app = build_web_app(services)
        profile = cProfile.Profile()
        asks = [qs[i % len(qs)] for i in range(n)]
        profile.enable()
        await _web_questions(app, asks, f"{tag}-prof")
        profile.disable()
        pstats.Stats(profile).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(
            os.environ.get("BENCH_FILTER", ""), 40
        )

    asyncio.run(main())


def main() -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--questions", type=int, default=300, help="questions per level")
    ap.add_argument("--profile", type=int, default=0, help="profile N in-process questions instead")
    ap.add_argument("--data-dir", type=Path, help="reuse a data directory (its index is built when missing)")
    args = ap.parse_args()
    qs = questions()
    with tempfile.TemporaryDirectory(prefix="lvzhi-bench-serve-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        if not (data_dir / "index").exists():
            env = build_env(data_dir) | {"LVZHI_VECTORS_IN_BACKGROUND": "false"}  # vectors before measuring
            subprocess.run(
                [sys.executable, "ingest.py", str(SHARED / "corpus" / "regulations")], cwd=ROOT, env=env, check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        if args.profile:
            run_profile(args.profile, data_dir, qs)
        else:
            run_server(args, data_dir, qs)


if __name__ == "__main__":
    main()
